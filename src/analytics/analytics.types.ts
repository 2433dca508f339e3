import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** The width of one point of a time series; the values are `date_trunc` fields. */
export enum TimeBucket {
  MINUTE = 'minute',
  HOUR = 'hour',
  DAY = 'day',
}
registerEnumType(TimeBucket, { name: 'TimeBucket' });

@ObjectType({
  simpleResolvers: true,
  description: 'Servers by health status, from get_server_health_summary.',
})
export class ServerHealthSummary {
  @Field(() => Int)
  totalServers!: number;

  @Field(() => Int)
  healthyServers!: number;

  @Field(() => Int)
  degradedServers!: number;

  @Field(() => Int)
  unhealthyServers!: number;

  @Field(() => Int)
  unknownServers!: number;

  @Field(() => Int)
  maintenanceServers!: number;

  @Field(() => Float, {
    nullable: true,
    description: "Mean of the servers' average probe times in ms; null when none was measured.",
  })
  avgResponseTime!: number | null;

  @Field(() => Int)
  openCircuits!: number;
}

@ObjectType({
  simpleResolvers: true,
  description: 'Requests of the last `hours`, from get_request_performance_summary.',
})
export class RequestPerformanceSummary {
  @Field(() => Int)
  totalRequests!: number;

  @Field(() => Int, { description: 'Requests with a status code of 400 or more.' })
  errorCount!: number;

  @Field(() => Float, { description: 'errorCount / totalRequests; 0 without requests.' })
  errorRate!: number;

  @Field(() => Float, { nullable: true })
  avgDurationMs!: number | null;

  @Field(() => Float, { nullable: true })
  p50DurationMs!: number | null;

  @Field(() => Float, { nullable: true })
  p95DurationMs!: number | null;

  @Field(() => Float, { nullable: true })
  p99DurationMs!: number | null;

  @Field(() => Float, { nullable: true })
  maxDurationMs!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One bucket of a request time series; empty buckets have 0 requests.',
})
export class RequestTimeBucket {
  @Field(() => Date, { description: 'Start of the bucket, truncated in UTC.' })
  bucketStart!: Date;

  @Field(() => Int)
  requests!: number;

  @Field(() => Int, { description: 'Requests with a status code of 400 or more.' })
  errors!: number;

  @Field(() => Float, { nullable: true, description: 'Null when the bucket has no requests.' })
  avgDurationMs!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: "A tool's lifetime usage through the gateway, over the tenant's servers.",
})
export class ToolUsage {
  @Field()
  toolName!: string;

  @Field(() => Int)
  calls!: number;

  @Field(() => Int)
  errors!: number;

  @Field(() => Float, { description: 'errors / calls.' })
  errorRate!: number;
}

@ObjectType({ simpleResolvers: true, description: "A tenant's usage, from get_tenant_usage_summary." })
export class TenantUsageSummary {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => Int, { description: 'Requests of the last `hours`.' })
  totalRequests!: number;

  @Field(() => Int)
  errorCount!: number;

  @Field(() => Float)
  errorRate!: number;

  @Field(() => Float, { nullable: true })
  avgDurationMs!: number | null;

  @Field(() => Int)
  totalServers!: number;

  @Field(() => Int, { description: 'Servers that are HEALTHY or DEGRADED.' })
  activeServers!: number;

  @Field(() => Int)
  totalTools!: number;

  @Field(() => Int, { description: "Lifetime tool calls through the gateway, over the tenant's servers." })
  toolCalls!: number;

  @Field(() => Int, { description: 'Keys that are neither revoked, locked nor expired.' })
  activeApiKeys!: number;
}

// Sizes and counters are Float: PostgreSQL reports them as bigint, and GraphQL's Int stops at 2^31 - 1
// (a 2 GiB table already overflows it), while a Float carries integers exactly up to 2^53.

@ObjectType({
  simpleResolvers: true,
  description: 'A table of the database and its size, from the database_size_summary view.',
})
export class TableSize {
  @Field()
  tableName!: string;

  @Field(() => Float, { description: 'Table, indexes and TOAST, in bytes.' })
  totalBytes!: number;

  @Field(() => Float)
  tableBytes!: number;

  @Field(() => Float)
  indexBytes!: number;

  @Field(() => Float, { description: "The planner's estimate; 0 until the table has been analysed." })
  rowEstimate!: number;
}

@ObjectType({
  simpleResolvers: true,
  description: 'An index and how often it is used, from the index_usage_summary view.',
})
export class IndexUsage {
  @Field()
  tableName!: string;

  @Field()
  indexName!: string;

  @Field(() => Float, { description: 'Index scans since statistics were last reset.' })
  scans!: number;

  @Field(() => Float)
  tuplesRead!: number;

  @Field(() => Float)
  tuplesFetched!: number;

  @Field(() => Float)
  sizeBytes!: number;

  @Field()
  isUnique!: boolean;
}
