// The contract's operations (schema/operations/*.graphql) as dashboards send them. ServerList also asks for
// each tool's input schema (`toolSchema`), the largest JSONB values the API serves.

const SERVER_SUMMARY = `
fragment ServerSummary on MCPServer {
  id
  name
  description
  endpointUrl
  transportType
  healthStatus
  avgResponseTime
  successRate
  activeConnections
  lastHealthCheckAt
  createdAt
  updatedAt
  tenant {
    id
    name
  }
  circuitBreaker {
    state
    failureCount
    failureThreshold
    openedAt
  }
}`;

export const SERVER_LIST = `
query ServerList($filter: ServerFilter, $first: Int, $after: String) {
  servers(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        ...ServerSummary
        tools {
          id
          name
          description
          toolSchema
          totalCalls
          successCount
          errorCount
          avgExecutionTime
        }
        resources {
          id
          uriTemplate
          name
          mimeType
        }
      }
    }
  }
}
${SERVER_SUMMARY}`;

export const DISCOVER_SERVERS = `
query DiscoverServers($tools: [String!], $resources: [String!], $first: Int) {
  servers(
    filter: { tools: $tools, resources: $resources, healthStatus: [HEALTHY, DEGRADED] }
    orderBy: { field: AVG_RESPONSE_TIME, direction: ASC }
    first: $first
  ) {
    totalCount
    edges {
      node {
        id
        name
        endpointUrl
        transportType
        healthStatus
        avgResponseTime
      }
    }
  }
}`;

export const DASHBOARD_OVERVIEW = `
query DashboardOverview($hours: Int!) {
  serverHealthSummary {
    totalServers
    healthyServers
    degradedServers
    unhealthyServers
    unknownServers
    avgResponseTime
    openCircuits
  }
  requestPerformanceSummary(hours: $hours) {
    totalRequests
    avgDurationMs
    p50DurationMs
    p95DurationMs
    p99DurationMs
    errorRate
  }
  requestTimeSeries(hours: $hours, bucket: HOUR) {
    bucketStart
    requests
    errors
    avgDurationMs
  }
}`;

export const REGISTER_SERVER = `
mutation RegisterServer($input: RegisterServerInput!) {
  registerServer(input: $input) {
    ...ServerSummary
    tools {
      name
      description
      toolSchema
    }
    resources {
      uriTemplate
      mimeType
    }
    prompts {
      name
    }
  }
}
${SERVER_SUMMARY}`;

export const RESET_CIRCUIT_BREAKER = `
mutation ResetCircuitBreaker($serverId: ID!) {
  resetCircuitBreaker(serverId: $serverId) {
    state
    failureCount
  }
}`;

export const CIRCUIT_BREAKER_CHANGED = `
subscription CircuitBreakerChanged($serverId: ID) {
  circuitBreakerChanged(serverId: $serverId) {
    serverId
    tenantId
    previousState
    state
    failureCount
    changedAt
  }
}`;
