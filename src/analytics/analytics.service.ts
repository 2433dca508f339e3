import type { EntityManager } from '../db/orm.js';
import { dateFromEpochMillis, epochMillisSql, nullableNumberOf, numberOf } from '../db/raw-values.js';
import { requireTenantScope, type Viewer } from '../graphql/access.js';
import { badUserInput } from '../graphql/errors.js';
import { findVisibleTenant } from '../tenants/tenant.service.js';
import {
  IndexUsage,
  RequestPerformanceSummary,
  RequestTimeBucket,
  ServerHealthSummary,
  TableSize,
  TenantUsageSummary,
  TimeBucket,
  ToolUsage,
} from './analytics.types.js';

// Figures come from the SQL functions and views of migrations/Migration20261128020000.ts. Each function takes
// an optional tenant id: `null` covers the whole platform, which only platform admins get.

/** The longest window analytics look back over: 90 days. */
export const MAX_HOURS = 24 * 90;
/** Enough points for the longest window by the hour; by the minute that is 36 hours. */
export const MAX_BUCKETS = MAX_HOURS + 1;
export const MAX_TOP_TOOLS = 100;

/** Buckets per hour, to bound a series before running it. */
const BUCKETS_PER_HOUR: Record<TimeBucket, number> = {
  [TimeBucket.MINUTE]: 60,
  [TimeBucket.HOUR]: 1,
  [TimeBucket.DAY]: 1 / 24,
};

/** One bucket's length. Days as 24 hours: an interval in days would follow the session's DST changes. */
const BUCKET_STEP: Record<TimeBucket, string> = {
  [TimeBucket.MINUTE]: '1 minute',
  [TimeBucket.HOUR]: '1 hour',
  [TimeBucket.DAY]: '24 hours',
};

type Row = Record<string, unknown>;

export function requireHours(hours: number): number {
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) {
    throw badUserInput(`"hours" must be a whole number from 1 to ${MAX_HOURS} (90 days).`, 'hours');
  }
  return hours;
}

export function requireLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TOP_TOOLS) {
    throw badUserInput(`"limit" must be between 1 and ${MAX_TOP_TOOLS}.`, 'limit');
  }
  return limit;
}

/**
 * Whose figures the viewer gets: its tenant's (`tenant id`), or every tenant's (`null`) for platform admins.
 * A platform key without ADMIN has no tenant: refused, since `null` would hand it the whole platform.
 */
function figuresScope(viewer: Viewer): string | null {
  return requireTenantScope(viewer, 'analytics').tenant ?? null;
}

/**
 * The servers whose figures the viewer gets, as a PostgreSQL uuid[] literal: a key limited by `allowedServers`
 * counts only those; `null` counts every server in the tenant scope.
 */
export function serverScope(viewer: Viewer): string | null {
  return viewer.allowedServers === null ? null : `{${[...viewer.allowedServers].join(',')}}`;
}

export async function serverHealthSummary(em: EntityManager, viewer: Viewer): Promise<ServerHealthSummary> {
  const row = await singleRow(em, 'select * from get_server_health_summary(?::uuid, ?::uuid[])', [
    figuresScope(viewer),
    serverScope(viewer),
  ]);
  return Object.assign(new ServerHealthSummary(), {
    totalServers: numberOf(row.total_servers),
    healthyServers: numberOf(row.healthy_servers),
    degradedServers: numberOf(row.degraded_servers),
    unhealthyServers: numberOf(row.unhealthy_servers),
    unknownServers: numberOf(row.unknown_servers),
    maintenanceServers: numberOf(row.maintenance_servers),
    avgResponseTime: nullableNumberOf(row.avg_response_time),
    openCircuits: numberOf(row.open_circuits),
  });
}

export async function requestPerformanceSummary(
  em: EntityManager,
  viewer: Viewer,
  hours: number,
): Promise<RequestPerformanceSummary> {
  const tenantId = figuresScope(viewer);
  const row = await singleRow(em, 'select * from get_request_performance_summary(?::int, ?::uuid)', [
    requireHours(hours),
    tenantId,
  ]);
  return Object.assign(new RequestPerformanceSummary(), {
    totalRequests: numberOf(row.total_requests),
    errorCount: numberOf(row.error_count),
    errorRate: numberOf(row.error_rate),
    avgDurationMs: nullableNumberOf(row.avg_duration_ms),
    p50DurationMs: nullableNumberOf(row.p50_duration_ms),
    p95DurationMs: nullableNumberOf(row.p95_duration_ms),
    p99DurationMs: nullableNumberOf(row.p99_duration_ms),
    maxDurationMs: nullableNumberOf(row.max_duration_ms),
  });
}

/**
 * Requests of the last `hours` per bucket, from the bucket holding `now - hours` to the current one, every
 * bucket present (0 requests when empty). Only requests inside the window count, as in the summary, so the
 * series adds up to its `totalRequests`.
 */
export async function requestTimeSeries(
  em: EntityManager,
  viewer: Viewer,
  hours: number,
  bucket: TimeBucket,
): Promise<RequestTimeBucket[]> {
  const tenantId = figuresScope(viewer);
  requireHours(hours);
  if (Math.ceil(hours * BUCKETS_PER_HOUR[bucket]) + 1 > MAX_BUCKETS) {
    const longest = Math.floor((MAX_BUCKETS - 1) / BUCKETS_PER_HOUR[bucket]);
    throw badUserInput(
      `A series has at most ${MAX_BUCKETS} points: ${bucket.toUpperCase()} buckets cover at most ${longest} ` +
        'hours. Ask for fewer hours or a larger bucket.',
      'hours',
    );
  }
  // The tenant condition is spelled out (not `? is null or ...`) so the planner sees which index serves it.
  const tenantCondition = tenantId === null ? '' : 'and r.tenant_id = ?';
  const rows = await em.execute<Row[]>(
    `with buckets as (
       select generate_series(
         date_trunc(?::text, now() - make_interval(hours => ?::int), 'UTC'),
         date_trunc(?::text, now(), 'UTC'),
         ?::interval
       ) as bucket_start
     ),
     counts as (
       select date_trunc(?::text, r.created_at, 'UTC') as bucket_start,
         count(*) as requests,
         count(*) filter (where r.status_code >= 400) as errors,
         avg(r.duration_ms) as avg_duration_ms
       from request_logs r
       where r.created_at >= now() - make_interval(hours => ?::int) ${tenantCondition}
       group by 1
     )
     select ${epochMillisSql('b.bucket_start')} as bucket_start, coalesce(c.requests, 0) as requests, coalesce(c.errors, 0) as errors, c.avg_duration_ms
     from buckets b
     left join counts c on c.bucket_start = b.bucket_start
     order by b.bucket_start`,
    [bucket, hours, bucket, BUCKET_STEP[bucket], bucket, hours, ...(tenantId === null ? [] : [tenantId])],
  );
  return rows.map((row) =>
    Object.assign(new RequestTimeBucket(), {
      bucketStart: dateFromEpochMillis(row.bucket_start),
      requests: numberOf(row.requests),
      errors: numberOf(row.errors),
      avgDurationMs: nullableNumberOf(row.avg_duration_ms),
    }),
  );
}

/** A tenant's usage; another tenant's id is NOT_FOUND for non-admins, exactly like an unknown one. */
export async function tenantUsageSummary(
  em: EntityManager,
  viewer: Viewer,
  tenantId: string,
  hours: number,
): Promise<TenantUsageSummary> {
  requireHours(hours);
  const tenant = await findVisibleTenant(em, viewer, tenantId);
  const row = await singleRow(em, 'select * from get_tenant_usage_summary(?::uuid, ?::int, ?::uuid[])', [
    tenant.id,
    hours,
    serverScope(viewer),
  ]);
  return Object.assign(new TenantUsageSummary(), {
    tenantId: tenant.id,
    totalRequests: numberOf(row.total_requests),
    errorCount: numberOf(row.error_count),
    errorRate: numberOf(row.error_rate),
    avgDurationMs: nullableNumberOf(row.avg_duration_ms),
    totalServers: numberOf(row.total_servers),
    activeServers: numberOf(row.active_servers),
    totalTools: numberOf(row.total_tools),
    toolCalls: numberOf(row.tool_calls),
    activeApiKeys: numberOf(row.active_api_keys),
  });
}

/**
 * The most called tools of a tenant's servers (only `servers`, a `serverScope`, when not null), from the
 * gateway's lifetime counters. A tool name offered by several servers is one entry (the type names no
 * server); tools never called are left out.
 */
export async function topTools(
  em: EntityManager,
  tenantId: string,
  servers: string | null,
  limit: number,
): Promise<ToolUsage[]> {
  const serverCondition = servers === null ? '' : 'and s.id = any(?::uuid[])';
  const rows = await em.execute<Row[]>(
    `select t.name as tool_name, sum(t.total_calls) as calls, sum(t.error_count) as errors
     from server_tools t
     join mcp_servers s on s.id = t.server_id
     where s.tenant_id = ? ${serverCondition} and t.total_calls > 0
     group by t.name
     order by calls desc, t.name
     limit ?`,
    [tenantId, ...(servers === null ? [] : [servers]), requireLimit(limit)],
  );
  return rows.map((row) => {
    const calls = numberOf(row.calls);
    const errors = numberOf(row.errors);
    return Object.assign(new ToolUsage(), {
      toolName: String(row.tool_name),
      calls,
      errors,
      errorRate: errors / calls,
    });
  });
}

export async function databaseSizeSummary(em: EntityManager): Promise<TableSize[]> {
  const rows = await em.execute<Row[]>(
    'select table_name, total_bytes, table_bytes, index_bytes, row_estimate from database_size_summary',
  );
  return rows.map((row) =>
    Object.assign(new TableSize(), {
      tableName: String(row.table_name),
      totalBytes: numberOf(row.total_bytes),
      tableBytes: numberOf(row.table_bytes),
      indexBytes: numberOf(row.index_bytes),
      rowEstimate: numberOf(row.row_estimate),
    }),
  );
}

export async function indexUsageSummary(em: EntityManager): Promise<IndexUsage[]> {
  const rows = await em.execute<Row[]>(
    'select table_name, index_name, scans, tuples_read, tuples_fetched, size_bytes, is_unique ' +
      'from index_usage_summary',
  );
  return rows.map((row) =>
    Object.assign(new IndexUsage(), {
      tableName: String(row.table_name),
      indexName: String(row.index_name),
      scans: numberOf(row.scans),
      tuplesRead: numberOf(row.tuples_read),
      tuplesFetched: numberOf(row.tuples_fetched),
      sizeBytes: numberOf(row.size_bytes),
      isUnique: row.is_unique === true,
    }),
  );
}

/** The one row an aggregate function returns. */
async function singleRow(em: EntityManager, sql: string, params: unknown[]): Promise<Row> {
  const [row] = await em.execute<Row[]>(sql, params);
  if (row === undefined) throw new Error(`no row from: ${sql}`);
  return row;
}
