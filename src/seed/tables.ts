import type { JsonObject, JsonValue } from '../graphql/scalars.js';
import { bulkTable } from './bulk-insert.js';

/**
 * The rows the seed writes with bulk inserts, and how each maps to its table's columns (as the migrations
 * create them). Timestamps are epoch milliseconds; `updated_at` repeats `created_at` unless a row has its own.
 */

export interface ServerRow {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string | null;
  readonly endpointUrl: string;
  readonly transportType: string;
  readonly capabilities: JsonObject;
  readonly protocolVersion: string | null;
  readonly serverInfo: JsonObject | null;
  readonly tags: readonly string[];
  readonly healthStatus: string;
  readonly avgResponseTime: number | null;
  readonly successRate: number;
  readonly activeConnections: number;
  readonly lastHealthCheckAt: number | null;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly nextCheckAt: number;
  readonly eventVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const serversTable = bulkTable<ServerRow>('mcp_servers', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', type: 'timestamptz', value: (row) => row.updatedAt },
  { name: 'tenant_id', type: 'uuid', value: (row) => row.tenantId },
  { name: 'name', type: 'text', value: (row) => row.name },
  { name: 'description', type: 'text', value: (row) => row.description },
  { name: 'endpoint_url', type: 'text', value: (row) => row.endpointUrl },
  { name: 'transport_type', type: 'text', value: (row) => row.transportType },
  { name: 'capabilities', type: 'jsonb', value: (row) => row.capabilities },
  { name: 'protocol_version', type: 'text', value: (row) => row.protocolVersion },
  { name: 'server_info', type: 'jsonb', value: (row) => row.serverInfo },
  { name: 'tags', type: 'text[]', value: (row) => row.tags },
  { name: 'health_status', type: 'text', value: (row) => row.healthStatus },
  { name: 'avg_response_time', type: 'float', value: (row) => row.avgResponseTime },
  { name: 'success_rate', type: 'float', value: (row) => row.successRate },
  { name: 'active_connections', type: 'int', value: (row) => row.activeConnections },
  { name: 'last_health_check_at', type: 'timestamptz', value: (row) => row.lastHealthCheckAt },
  { name: 'consecutive_failures', type: 'int', value: (row) => row.consecutiveFailures },
  { name: 'consecutive_successes', type: 'int', value: (row) => row.consecutiveSuccesses },
  { name: 'next_check_at', type: 'timestamptz', value: (row) => row.nextCheckAt },
  { name: 'event_version', type: 'int', value: (row) => row.eventVersion },
]);

export interface CircuitBreakerRow {
  readonly id: string;
  readonly serverId: string;
  readonly state: string;
  readonly failureCount: number;
  readonly successCount: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly openTimeoutMs: number;
  readonly openedAt: number | null;
  readonly lastFailureAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly totalRequests: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const circuitBreakersTable = bulkTable<CircuitBreakerRow>('circuit_breakers', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', type: 'timestamptz', value: (row) => row.updatedAt },
  { name: 'server_id', type: 'uuid', value: (row) => row.serverId },
  { name: 'state', type: 'text', value: (row) => row.state },
  { name: 'failure_count', type: 'int', value: (row) => row.failureCount },
  { name: 'success_count', type: 'int', value: (row) => row.successCount },
  { name: 'failure_threshold', type: 'int', value: (row) => row.failureThreshold },
  { name: 'success_threshold', type: 'int', value: (row) => row.successThreshold },
  { name: 'open_timeout_ms', type: 'int', value: (row) => row.openTimeoutMs },
  { name: 'opened_at', type: 'timestamptz', value: (row) => row.openedAt },
  { name: 'last_failure_at', type: 'timestamptz', value: (row) => row.lastFailureAt },
  { name: 'last_success_at', type: 'timestamptz', value: (row) => row.lastSuccessAt },
  { name: 'total_requests', type: 'int', value: (row) => row.totalRequests },
  { name: 'total_failures', type: 'int', value: (row) => row.totalFailures },
  { name: 'total_successes', type: 'int', value: (row) => row.totalSuccesses },
]);

export interface ToolRow {
  readonly id: string;
  readonly serverId: string;
  readonly name: string;
  readonly description: string;
  readonly toolSchema: JsonObject;
  readonly annotations: JsonObject | null;
  readonly totalCalls: number;
  readonly successCount: number;
  readonly errorCount: number;
  readonly avgExecutionTime: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const toolsTable = bulkTable<ToolRow>('server_tools', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', type: 'timestamptz', value: (row) => row.updatedAt },
  { name: 'server_id', type: 'uuid', value: (row) => row.serverId },
  { name: 'name', type: 'text', value: (row) => row.name },
  { name: 'description', type: 'text', value: (row) => row.description },
  { name: 'tool_schema', type: 'jsonb', value: (row) => row.toolSchema },
  { name: 'annotations', type: 'jsonb', value: (row) => row.annotations },
  { name: 'total_calls', type: 'int', value: (row) => row.totalCalls },
  { name: 'success_count', type: 'int', value: (row) => row.successCount },
  { name: 'error_count', type: 'int', value: (row) => row.errorCount },
  { name: 'avg_execution_time', type: 'float', value: (row) => row.avgExecutionTime },
]);

export interface ResourceRow {
  readonly id: string;
  readonly serverId: string;
  readonly uriTemplate: string;
  readonly isTemplate: boolean;
  readonly uriRegex: string | null;
  readonly name: string | null;
  readonly description: string | null;
  readonly mimeType: string | null;
  readonly createdAt: number;
}

export const resourcesTable = bulkTable<ResourceRow>('server_resources', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', copyOf: 'created_at' },
  { name: 'server_id', type: 'uuid', value: (row) => row.serverId },
  { name: 'uri_template', type: 'text', value: (row) => row.uriTemplate },
  { name: 'is_template', type: 'bool', value: (row) => row.isTemplate },
  { name: 'uri_regex', type: 'text', value: (row) => row.uriRegex },
  { name: 'name', type: 'text', value: (row) => row.name },
  { name: 'description', type: 'text', value: (row) => row.description },
  { name: 'mime_type', type: 'text', value: (row) => row.mimeType },
]);

export interface PromptRow {
  readonly id: string;
  readonly serverId: string;
  readonly name: string;
  readonly description: string | null;
  readonly arguments: JsonValue[];
  readonly createdAt: number;
}

export const promptsTable = bulkTable<PromptRow>('server_prompts', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', copyOf: 'created_at' },
  { name: 'server_id', type: 'uuid', value: (row) => row.serverId },
  { name: 'name', type: 'text', value: (row) => row.name },
  { name: 'description', type: 'text', value: (row) => row.description },
  { name: 'arguments', type: 'jsonb', value: (row) => row.arguments },
]);

export interface HealthCheckRow {
  readonly id: string;
  readonly serverId: string;
  readonly checkedAt: number;
  readonly status: string;
  readonly outcome: string;
  readonly responseTimeMs: number | null;
  readonly protocolVersion: string | null;
  readonly error: string | null;
}

export const healthChecksTable = bulkTable<HealthCheckRow>('health_checks', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', copyOf: 'checked_at' },
  { name: 'updated_at', copyOf: 'checked_at' },
  { name: 'server_id', type: 'uuid', value: (row) => row.serverId },
  { name: 'checked_at', type: 'timestamptz', value: (row) => row.checkedAt },
  { name: 'status', type: 'text', value: (row) => row.status },
  { name: 'outcome', type: 'text', value: (row) => row.outcome },
  { name: 'response_time_ms', type: 'float', value: (row) => row.responseTimeMs },
  { name: 'protocol_version', type: 'text', value: (row) => row.protocolVersion },
  { name: 'error', type: 'text', value: (row) => row.error },
]);

export interface AuditLogRow {
  readonly id: string;
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly apiKeyId: string | null;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly success: boolean;
  readonly details: JsonObject;
  readonly ipAddress: string | null;
  readonly createdAt: number;
}

export const auditLogsTable = bulkTable<AuditLogRow>('audit_logs', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', copyOf: 'created_at' },
  { name: 'tenant_id', type: 'uuid', value: (row) => row.tenantId },
  { name: 'user_id', type: 'uuid', value: (row) => row.userId },
  { name: 'api_key_id', type: 'uuid', value: (row) => row.apiKeyId },
  { name: 'action', type: 'text', value: (row) => row.action },
  { name: 'resource_type', type: 'text', value: (row) => row.resourceType },
  { name: 'resource_id', type: 'text', value: (row) => row.resourceId },
  { name: 'success', type: 'bool', value: (row) => row.success },
  { name: 'details', type: 'jsonb', value: (row) => row.details },
  { name: 'ip_address', type: 'text', value: (row) => row.ipAddress },
]);

export interface RequestLogRow {
  readonly id: string;
  readonly requestId: string;
  readonly tenantId: string | null;
  readonly apiKeyId: string | null;
  readonly method: string;
  readonly path: string;
  readonly operationName: string | null;
  readonly statusCode: number;
  readonly durationMs: number;
  readonly createdAt: number;
}

export const requestLogsTable = bulkTable<RequestLogRow>('request_logs', [
  { name: 'id', type: 'uuid', value: (row) => row.id },
  { name: 'created_at', type: 'timestamptz', value: (row) => row.createdAt },
  { name: 'updated_at', copyOf: 'created_at' },
  { name: 'request_id', type: 'text', value: (row) => row.requestId },
  { name: 'tenant_id', type: 'uuid', value: (row) => row.tenantId },
  { name: 'api_key_id', type: 'uuid', value: (row) => row.apiKeyId },
  { name: 'method', type: 'text', value: (row) => row.method },
  { name: 'path', type: 'text', value: (row) => row.path },
  { name: 'operation_name', type: 'text', value: (row) => row.operationName },
  { name: 'status_code', type: 'int', value: (row) => row.statusCode },
  { name: 'duration_ms', type: 'float', value: (row) => row.durationMs },
]);
