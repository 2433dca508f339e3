import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../src/audit/audit-log.entity.js';
import type { RequestLog } from '../src/audit/request-log.entity.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CircuitBreakerState, ServerStatus } from '../src/registry/registry.enums.js';
import {
  AuditLogListDocument,
  type AuditLogListQuery,
  DashboardOverviewDocument,
  type DashboardOverviewQuery,
  MaintenanceDocument,
  type MaintenanceQuery,
  RequestLogListDocument,
  type RequestLogListQuery,
  TenantUsageDocument,
  type TenantUsageQuery,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { type RequestLogSpec, seed } from './support/seed.js';

/**
 * Analytics, audit logs and request logs through the API (the contract's operations in
 * schema/operations/analytics.graphql), over rows seeded at known times: exact figures, tenant isolation,
 * filters, keyset pagination, validation and access.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

let db: TestDatabase;
let app: TestApp;
type SeededTenant = Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let alpha: SeededTenant;
let beta: SeededTenant;
const keys = {} as Record<
  'alphaRead' | 'alphaMetrics' | 'alphaWrite' | 'betaRead' | 'platformRead' | 'tenantAdmin',
  string
>;
let seededAt: number;
let requests: RequestLog[];
let audits: AuditLog[];
const users = {} as Record<'alice' | 'bob' | 'carol', string>;

const minutesAgo = (minutes: number) => new Date(seededAt - minutes * MINUTE_MS);

// Rows sit well inside or outside every window asked for below (3 h, 24 h, 48 h), never near an edge.
function requestSpecs(): RequestLogSpec[] {
  const a = alpha.id;
  const b = beta.id;
  return [
    // alpha, last 3 hours: durations 10..80, one 404 and one 500
    { tenantId: a, durationMs: 10, at: minutesAgo(5), operationName: 'ServerList' },
    { tenantId: a, durationMs: 20, at: minutesAgo(5), operationName: 'ServerList' }, // same millisecond
    { tenantId: a, durationMs: 30, at: minutesAgo(20), statusCode: 404, operationName: 'ServerDetail' },
    { tenantId: a, durationMs: 40, at: minutesAgo(20), operationName: 'ServerList' },
    { tenantId: a, durationMs: 50, at: minutesAgo(70), statusCode: 500, operationName: 'DashboardOverview' },
    { tenantId: a, durationMs: 60, at: minutesAgo(70), operationName: 'DashboardOverview' },
    { tenantId: a, durationMs: 70, at: minutesAgo(130), operationName: 'ServerList' },
    { tenantId: a, durationMs: 80, at: minutesAgo(130), operationName: null },
    // alpha, older: 5 hours (inside 24 h) and 50 hours (outside 48 h)
    { tenantId: a, durationMs: 1000, at: minutesAgo(300), statusCode: 500, operationName: 'ServerList' },
    { tenantId: a, durationMs: 5000, at: minutesAgo(3000), statusCode: 500, operationName: 'ServerList' },
    // beta, last 3 hours
    { tenantId: b, durationMs: 100, at: minutesAgo(10), operationName: 'ServerList' },
    { tenantId: b, durationMs: 300, at: minutesAgo(10), statusCode: 503, operationName: 'ServerList' },
    // platform (no tenant)
    { tenantId: null, durationMs: 7, at: minutesAgo(15), operationName: 'CreateTenant' },
  ];
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  // Exact figures over the seeded rows: the writer's rows of this file's own requests are kept out.
  await seed(app.orm).keepOnlySeededRequestLogs();
  seededAt = Date.now();
  const kit = seed(app.orm);
  alpha = await kit.tenant('alpha');
  beta = await kit.tenant('beta');
  await kit.tenant('idle');

  await alpha.servers([
    {
      name: 'a-search',
      healthStatus: ServerStatus.HEALTHY,
      avgResponseTime: 10,
      tools: ['search', 'fetch'],
      toolCalls: { search: { calls: 10, errors: 1 }, fetch: { calls: 5 } },
    },
    {
      name: 'a-run',
      healthStatus: ServerStatus.HEALTHY,
      avgResponseTime: 30,
      circuitState: CircuitBreakerState.OPEN,
      tools: ['run', 'search'],
      toolCalls: { search: { calls: 4, errors: 3 } },
    },
    {
      name: 'a-slow',
      healthStatus: ServerStatus.DEGRADED,
      avgResponseTime: 50,
      circuitState: CircuitBreakerState.OPEN,
    },
    { name: 'a-down', healthStatus: ServerStatus.UNHEALTHY, circuitState: CircuitBreakerState.HALF_OPEN },
    { name: 'a-new', healthStatus: ServerStatus.UNKNOWN },
  ]);
  await beta.servers([
    {
      name: 'b-main',
      healthStatus: ServerStatus.MAINTENANCE,
      avgResponseTime: 200,
      circuitState: CircuitBreakerState.OPEN,
      tools: ['export'],
      toolCalls: { export: { calls: 1000, errors: 10 } },
    },
    { name: 'b-two', healthStatus: ServerStatus.DEGRADED, avgResponseTime: 90 },
  ]);

  keys.alphaRead = (await alpha.key([ApiKeyScope.READ])).key;
  keys.alphaMetrics = (await alpha.key([ApiKeyScope.METRICS])).key;
  keys.alphaWrite = (await alpha.key([ApiKeyScope.WRITE])).key;
  keys.betaRead = (await beta.key([ApiKeyScope.READ])).key;
  keys.platformRead = (await kit.key([ApiKeyScope.READ])).key;
  keys.tenantAdmin = (await alpha.key([ApiKeyScope.ADMIN])).key;

  users.alice = (await alpha.user('alice')).id;
  users.bob = (await alpha.user('bob')).id;
  users.carol = (await beta.user('carol')).id;

  requests = await kit.requestLogs(requestSpecs());
  const a = alpha.id;
  audits = await kit.auditLogs([
    {
      tenantId: a,
      userId: users.alice,
      action: 'server.create',
      resourceType: 'server',
      resourceId: 's-1',
      at: minutesAgo(10),
    },
    {
      tenantId: a,
      userId: users.bob,
      action: 'server.update',
      resourceType: 'server',
      resourceId: 's-1',
      success: false,
      details: { error: 'CONFLICT' },
      ipAddress: '10.0.0.1',
      at: minutesAgo(8),
    },
    { tenantId: a, action: 'tenant.update', resourceType: 'tenant', resourceId: a, at: minutesAgo(6) },
    {
      tenantId: a,
      userId: users.alice,
      action: 'server.delete',
      resourceType: 'server',
      resourceId: 's-1',
      at: minutesAgo(4),
    },
    // Same millisecond as the entry above: the keyset continues by id.
    {
      tenantId: a,
      userId: users.carol,
      action: 'server.delete',
      resourceType: 'server',
      resourceId: 's-2',
      at: minutesAgo(4),
    },
    {
      tenantId: beta.id,
      userId: users.carol,
      action: 'server.create',
      resourceType: 'server',
      at: minutesAgo(5),
    },
    { tenantId: null, action: 'tenant.create', resourceType: 'tenant', resourceId: a, at: minutesAgo(12) },
  ]);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------------

interface Response<T> {
  data: T | null | undefined;
  errors: { message: string; extensions?: Record<string, unknown> }[] | undefined;
}

async function query<T>(
  document: Parameters<typeof print>[0],
  variables: Record<string, unknown>,
  key?: string,
): Promise<Response<T>> {
  return app.graphql<T>({ query: print(document), variables, ...(key && { key }) });
}

function dataOf<T>(response: Response<T>): T {
  expect(response.errors).toBeUndefined();
  return response.data as T;
}

function expectError(response: Response<unknown>, code: string, field?: string): void {
  expect(response.errors?.[0]?.extensions).toMatchObject({ code, ...(field && { field }) });
}

/** PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks. */
function percentileCont(values: number[], fraction: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const position = fraction * (sorted.length - 1);
  const lower = sorted[Math.floor(position)] as number;
  const upper = sorted[Math.ceil(position)] as number;
  return lower + (upper - lower) * (position - Math.floor(position));
}

type Scope = 'alpha' | 'beta' | 'platform';

/** The seeded requests a scope sees within the last `hours`. */
function requestsIn(scope: Scope, hours: number): RequestLog[] {
  const tenantId = scope === 'alpha' ? alpha.id : scope === 'beta' ? beta.id : undefined;
  return requests.filter(
    (row) =>
      (tenantId === undefined || row.tenantId === tenantId) &&
      row.createdAt.getTime() >= seededAt - hours * HOUR_MS,
  );
}

function expectedPerformance(rows: RequestLog[]) {
  const durations = rows.map((row) => row.durationMs);
  const errors = rows.filter((row) => row.statusCode >= 400).length;
  return {
    totalRequests: rows.length,
    errorRate: errors / rows.length,
    avgDurationMs: expect.closeTo(durations.reduce((sum, ms) => sum + ms, 0) / rows.length, 9),
    p50DurationMs: expect.closeTo(percentileCont(durations, 0.5), 9),
    p95DurationMs: expect.closeTo(percentileCont(durations, 0.95), 9),
    p99DurationMs: expect.closeTo(percentileCont(durations, 0.99), 9),
  };
}

type Bucket = DashboardOverviewQuery['requestTimeSeries'][number];

/**
 * A series must run, one bucket apart, from the bucket holding `now - hours` to the current one, and count
 * exactly the seeded requests of each bucket.
 */
function expectSeries(series: Bucket[], rows: RequestLog[], bucketMs: number, hours: number, asked: number) {
  const floor = (time: number) => Math.floor(time / bucketMs) * bucketMs;
  const starts = series.map((bucket) => Date.parse(bucket.bucketStart));
  expect(starts.slice(1).map((start, index) => start - (starts[index] as number))).toEqual(
    starts.slice(1).map(() => bucketMs),
  );
  // The server's `now` lies between `asked` and this moment: the series ends in the bucket of one of them.
  const answered = Date.now();
  expect([floor(asked), floor(answered)]).toContain(starts.at(-1));
  expect([floor(asked - hours * HOUR_MS), floor(answered - hours * HOUR_MS)]).toContain(starts[0]);
  for (const bucket of series) {
    const inBucket = rows.filter((row) => floor(row.createdAt.getTime()) === Date.parse(bucket.bucketStart));
    const durations = inBucket.map((row) => row.durationMs);
    expect(bucket, bucket.bucketStart).toEqual({
      bucketStart: bucket.bucketStart,
      requests: inBucket.length,
      errors: inBucket.filter((row) => row.statusCode >= 400).length,
      avgDurationMs:
        inBucket.length === 0 ? null : durations.reduce((sum, ms) => sum + ms, 0) / inBucket.length,
    });
  }
  expect(series.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(rows.length);
}

// ---------------------------------------------------------------------------------------------------------

describe('DashboardOverview', () => {
  it("gives a tenant key its own tenant's health, performance and hourly series", async () => {
    const asked = Date.now();
    const data = dataOf(
      await query<DashboardOverviewQuery>(DashboardOverviewDocument, { hours: 3 }, keys.alphaRead),
    );
    expect(data.serverHealthSummary).toEqual({
      totalServers: 5,
      healthyServers: 2,
      degradedServers: 1,
      unhealthyServers: 1,
      unknownServers: 1,
      avgResponseTime: 30, // (10 + 30 + 50) / 3: servers never measured are left out
      openCircuits: 2,
    });
    const rows = requestsIn('alpha', 3);
    expect(rows).toHaveLength(8);
    expect(data.requestPerformanceSummary).toEqual(expectedPerformance(rows));
    expect(data.requestPerformanceSummary).toMatchObject({
      totalRequests: 8,
      errorRate: 0.25,
      avgDurationMs: 45,
      p50DurationMs: 45,
    });
    expect(data.requestTimeSeries).toHaveLength(4); // the hour of now - 3 h up to the current hour
    expectSeries(data.requestTimeSeries, rows, HOUR_MS, 3, asked);
  });

  it("keeps tenants apart: beta's key sees only beta", async () => {
    const data = dataOf(
      await query<DashboardOverviewQuery>(DashboardOverviewDocument, { hours: 3 }, keys.betaRead),
    );
    expect(data.serverHealthSummary).toEqual({
      totalServers: 2,
      healthyServers: 0,
      degradedServers: 1,
      unhealthyServers: 0,
      unknownServers: 0,
      avgResponseTime: 145,
      openCircuits: 1,
    });
    expect(data.requestPerformanceSummary).toEqual(expectedPerformance(requestsIn('beta', 3)));
    expect(data.requestPerformanceSummary).toMatchObject({
      totalRequests: 2,
      errorRate: 0.5,
      avgDurationMs: 200,
    });
    expect(data.requestTimeSeries.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(2);
  });

  it('gives platform admins every tenant, and requests without a tenant', async () => {
    for (const key of [undefined, keys.tenantAdmin]) {
      const asked = Date.now();
      const data = dataOf(await query<DashboardOverviewQuery>(DashboardOverviewDocument, { hours: 3 }, key));
      expect(data.serverHealthSummary).toEqual({
        totalServers: 7,
        healthyServers: 2,
        degradedServers: 2,
        unhealthyServers: 1,
        unknownServers: 1,
        avgResponseTime: 76, // (10 + 30 + 50 + 200 + 90) / 5
        openCircuits: 3,
      });
      const rows = requestsIn('platform', 3);
      expect(rows).toHaveLength(11);
      expect(data.requestPerformanceSummary).toEqual(expectedPerformance(rows));
      expectSeries(data.requestTimeSeries, rows, HOUR_MS, 3, asked);
    }
  });

  it('serves METRICS keys as well as READ keys, and nobody else', async () => {
    const metrics = await query<DashboardOverviewQuery>(
      DashboardOverviewDocument,
      { hours: 3 },
      keys.alphaMetrics,
    );
    expect(dataOf(metrics).requestPerformanceSummary.totalRequests).toBe(8);
    expectError(await query(DashboardOverviewDocument, { hours: 3 }, keys.alphaWrite), 'FORBIDDEN');
    // A platform key without ADMIN has no tenant of its own: it must not get the platform's figures.
    expectError(await query(DashboardOverviewDocument, { hours: 3 }, keys.platformRead), 'FORBIDDEN');
    const anonymous = await app.graphql({
      query: print(DashboardOverviewDocument),
      variables: { hours: 3 },
      key: null,
    });
    expectError(anonymous, 'UNAUTHENTICATED');
  });

  it('rejects windows outside 1 hour .. 90 days', async () => {
    for (const hours of [0, -1, 24 * 90 + 1]) {
      expectError(await query(DashboardOverviewDocument, { hours }), 'BAD_USER_INPUT', 'hours');
    }
    expect(
      dataOf(await query<DashboardOverviewQuery>(DashboardOverviewDocument, { hours: 24 * 90 }))
        .requestTimeSeries,
    ).toHaveLength(24 * 90 + 1);
  });
});

describe('requestTimeSeries', () => {
  const SERIES = `query Series($hours: Int!, $bucket: TimeBucket!) {
    requestTimeSeries(hours: $hours, bucket: $bucket) { bucketStart requests errors avgDurationMs }
  }`;
  const series = (hours: number, bucket: string, key?: string) =>
    app.graphql<{ requestTimeSeries: Bucket[] }>({
      query: SERIES,
      variables: { hours, bucket },
      ...(key && { key }),
    });

  it('has a bucket for every minute, empty ones included', async () => {
    const asked = Date.now();
    const { data, errors } = await series(1, 'MINUTE', keys.betaRead);
    expect(errors).toBeUndefined();
    const buckets = data?.requestTimeSeries ?? [];
    expect(buckets).toHaveLength(61);
    expectSeries(buckets, requestsIn('beta', 1), MINUTE_MS, 1, asked);
    expect(buckets.filter((bucket) => bucket.requests > 0)).toEqual([
      expect.objectContaining({ requests: 2, errors: 1, avgDurationMs: 200 }),
    ]);
    expect(
      buckets.filter((bucket) => bucket.requests === 0).every((bucket) => bucket.avgDurationMs === null),
    ).toBe(true);
  });

  it('buckets by UTC day', async () => {
    const asked = Date.now();
    const { data, errors } = await series(48, 'DAY');
    expect(errors).toBeUndefined();
    expect(data?.requestTimeSeries).toHaveLength(3);
    expect(data?.requestTimeSeries.every((bucket) => bucket.bucketStart.endsWith('T00:00:00.000Z'))).toBe(
      true,
    );
    expectSeries(data?.requestTimeSeries ?? [], requestsIn('platform', 48), DAY_MS, 48, asked);
  });

  it('refuses series with too many points', async () => {
    expect((await series(36, 'MINUTE')).errors).toBeUndefined();
    const tooMany = await series(37, 'MINUTE');
    expectError(tooMany, 'BAD_USER_INPUT', 'hours');
    expect(tooMany.errors?.[0]?.message).toContain('MINUTE buckets cover at most 36 hours');
  });
});

describe('TenantUsage', () => {
  it("reports a tenant's usage with its most called tools", async () => {
    const data = dataOf(
      await query<TenantUsageQuery>(TenantUsageDocument, { tenantId: alpha.id, hours: 3 }, keys.alphaRead),
    );
    expect(data.tenantUsageSummary).toEqual({
      totalRequests: 8,
      errorRate: 0.25,
      avgDurationMs: 45,
      activeServers: 3, // healthy or degraded
      toolCalls: 19,
      topTools: [
        // `search` is offered by two servers: one entry; `run` was never called.
        { toolName: 'search', calls: 14, errorRate: 4 / 14 },
        { toolName: 'fetch', calls: 5, errorRate: 0 },
      ],
    });
  });

  it("lets admins read any tenant's usage", async () => {
    const data = dataOf(await query<TenantUsageQuery>(TenantUsageDocument, { tenantId: beta.id, hours: 24 }));
    expect(data.tenantUsageSummary).toEqual({
      totalRequests: 2,
      errorRate: 0.5,
      avgDurationMs: 200,
      activeServers: 1,
      toolCalls: 1000,
      topTools: [{ toolName: 'export', calls: 1000, errorRate: 0.01 }],
    });
    const day = dataOf(await query<TenantUsageQuery>(TenantUsageDocument, { tenantId: alpha.id, hours: 24 }));
    expect(day.tenantUsageSummary).toMatchObject({ totalRequests: 9, errorRate: 3 / 9 });
  });

  it("answers NOT_FOUND for another tenant's id, as for an unknown one", async () => {
    for (const tenantId of [beta.id, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const response = await query(TenantUsageDocument, { tenantId, hours: 3 }, keys.alphaRead);
      expectError(response, 'NOT_FOUND');
      expect(response.data).toBeNull();
    }
    expectError(await query(TenantUsageDocument, { tenantId: 'not-an-id', hours: 3 }), 'NOT_FOUND');
  });

  it('validates hours and the topTools limit', async () => {
    expectError(
      await query(TenantUsageDocument, { tenantId: alpha.id, hours: 0 }),
      'BAD_USER_INPUT',
      'hours',
    );
    const TOP =
      'query Top($id: ID!, $limit: Int!) { tenantUsageSummary(tenantId: $id, hours: 1) { topTools(limit: $limit) { toolName } } }';
    for (const limit of [0, 101]) {
      const response = await app.graphql({ query: TOP, variables: { id: alpha.id, limit } });
      expectError(response, 'BAD_USER_INPUT', 'limit');
    }
    const one = await app.graphql<{ tenantUsageSummary: { topTools: { toolName: string }[] } }>({
      query: TOP,
      variables: { id: alpha.id, limit: 1 },
    });
    expect(one.data?.tenantUsageSummary.topTools).toEqual([{ toolName: 'search' }]);
  });
});

describe('AuditLogList', () => {
  type AuditNode = AuditLogListQuery['auditLogs']['edges'][number]['node'];
  const actions = (data: AuditLogListQuery) =>
    data.auditLogs.edges.map((edge) => `${edge.node.action}/${edge.node.resourceId}`);

  /** Seeded entries of a tenant (every one for undefined), newest first, ties by id descending. */
  function expectedOrder(tenantId?: string | null): AuditLog[] {
    return audits
      .filter((log) => tenantId === undefined || log.tenantId === tenantId)
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (y.id > x.id ? 1 : -1));
  }

  it("lists a tenant's entries newest first, with who acted", async () => {
    const data = dataOf(await query<AuditLogListQuery>(AuditLogListDocument, {}, keys.alphaRead));
    expect(data.auditLogs.totalCount).toBe(5);
    expect(data.auditLogs.edges.map((edge) => edge.node.id)).toEqual(
      expectedOrder(alpha.id).map((log) => log.id),
    );
    const failed = data.auditLogs.edges.find((edge) => !edge.node.success)?.node as AuditNode;
    expect(failed).toMatchObject({
      action: 'server.update',
      resourceType: 'server',
      resourceId: 's-1',
      details: { error: 'CONFLICT' },
      ipAddress: '10.0.0.1',
      createdAt: minutesAgo(8).toISOString(),
      user: { id: users.bob, username: 'bob' },
    });
    const byResource = new Map(
      data.auditLogs.edges.map((edge) => [`${edge.node.action}/${edge.node.resourceId}`, edge.node]),
    );
    expect(byResource.get(`tenant.update/${alpha.id}`)?.user).toBeNull();
    // An entry of alpha naming beta's user: alpha's key is not told who that is; an admin is.
    expect(byResource.get('server.delete/s-2')?.user).toBeNull();
  });

  it('keeps tenants apart and shows admins everything', async () => {
    const betaData = dataOf(await query<AuditLogListQuery>(AuditLogListDocument, {}, keys.betaRead));
    expect(actions(betaData)).toEqual(['server.create/null']);
    expect(betaData.auditLogs.edges[0]?.node.user).toEqual({ id: users.carol, username: 'carol' });

    const all = dataOf(await query<AuditLogListQuery>(AuditLogListDocument, { first: 100 }));
    // Besides the seeded entries: the audited authentication failure of this file's anonymous request.
    const seeded = all.auditLogs.edges.filter((edge) => edge.node.action !== 'auth.failure');
    expect(all.auditLogs.totalCount).toBe(audits.length + all.auditLogs.edges.length - seeded.length);
    expect(seeded.map((edge) => edge.node.id)).toEqual(expectedOrder().map((log) => log.id));
    const s2 = all.auditLogs.edges.find((edge) => edge.node.resourceId === 's-2')?.node;
    expect(s2?.user).toEqual({ id: users.carol, username: 'carol' });
  });

  it('loads the users of a whole page in one statement', async () => {
    const { statements } = await app.countStatements(() => query(AuditLogListDocument, { first: 100 }));
    expect(statements.filter((sql) => /from "users"/.test(sql))).toHaveLength(1);
  });

  it('filters by every field, with inclusive time bounds', async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ action: 'server.delete' }, ['server.delete/s-1', 'server.delete/s-2'].sort()],
      [{ resourceType: 'tenant' }, [`tenant.update/${alpha.id}`]],
      [{ resourceId: 's-1' }, ['server.create/s-1', 'server.delete/s-1', 'server.update/s-1']],
      [{ userId: users.alice }, ['server.create/s-1', 'server.delete/s-1']],
      [{ success: false }, ['server.update/s-1']],
      [
        { since: minutesAgo(8).toISOString(), until: minutesAgo(6).toISOString() },
        [`server.update/s-1`, `tenant.update/${alpha.id}`],
      ],
      [{ action: 'server.create', userId: users.bob }, []],
    ];
    for (const [filter, expected] of cases) {
      const data = dataOf(await query<AuditLogListQuery>(AuditLogListDocument, { filter }, keys.alphaRead));
      expect(actions(data).sort(), JSON.stringify(filter)).toEqual(expected.sort());
      expect(data.auditLogs.totalCount).toBe(expected.length);
    }
  });

  it('pages with exact keyset cursors, also through entries of the same millisecond', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const data: AuditLogListQuery = dataOf(
        await query<AuditLogListQuery>(AuditLogListDocument, { first: 2, after }, keys.alphaRead),
      );
      expect(data.auditLogs.totalCount).toBe(5);
      seen.push(...data.auditLogs.edges.map((edge) => edge.node.id));
      if (!data.auditLogs.pageInfo.hasNextPage) break;
      after = data.auditLogs.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedOrder(alpha.id).map((log) => log.id));
  });

  it('pages exactly through rows stamped by the database clock', async () => {
    // now() has microseconds; the timestamptz(3) column keeps milliseconds, which a cursor carries exactly.
    const em = app.orm.em.fork();
    for (let row = 0; row < 4; row += 1) {
      await em.execute(
        `insert into audit_logs (id, tenant_id, action, resource_type, success, details, created_at, updated_at)
         values (gen_random_uuid(), ?, 'probe.tick', 'probe', true, '{}', now(), now())`,
        [beta.id],
      );
    }
    const seen = new Set<string>();
    let after: string | null = null;
    for (let page = 0; page < 4; page += 1) {
      const data: AuditLogListQuery = dataOf(
        await query<AuditLogListQuery>(
          AuditLogListDocument,
          { filter: { action: 'probe.tick' }, first: 1, after },
          keys.betaRead,
        ),
      );
      for (const edge of data.auditLogs.edges) seen.add(edge.node.id);
      expect(data.auditLogs.pageInfo.hasNextPage).toBe(page < 3);
      after = data.auditLogs.pageInfo.endCursor;
    }
    expect(seen.size).toBe(4);
  });

  it('rejects bad filters and page arguments', async () => {
    const until = minutesAgo(10).toISOString();
    const since = minutesAgo(5).toISOString();
    expectError(await query(AuditLogListDocument, { filter: { since, until } }), 'BAD_USER_INPUT', 'until');
    expectError(await query(AuditLogListDocument, { filter: { userId: 'bob' } }), 'BAD_USER_INPUT', 'userId');
    expectError(await query(AuditLogListDocument, { first: 101 }), 'BAD_USER_INPUT', 'first');
    expectError(await query(AuditLogListDocument, { after: 'garbage' }), 'BAD_USER_INPUT', 'after');
    expectError(await query(AuditLogListDocument, { filter: { since: 'yesterday' } }), 'BAD_USER_INPUT');
  });

  it('needs READ: METRICS keys cannot read the audit trail', async () => {
    expectError(await query(AuditLogListDocument, {}, keys.alphaMetrics), 'FORBIDDEN');
    expectError(await query(AuditLogListDocument, {}, keys.platformRead), 'FORBIDDEN');
  });
});

describe('RequestLogList', () => {
  type RequestNode = RequestLogListQuery['requestLogs']['edges'][number]['node'];
  const durations = (data: RequestLogListQuery) => data.requestLogs.edges.map((edge) => edge.node.durationMs);

  it("lists a tenant's requests newest first", async () => {
    const data = dataOf(
      await query<RequestLogListQuery>(RequestLogListDocument, { first: 100 }, keys.alphaMetrics),
    );
    expect(data.requestLogs.totalCount).toBe(10);
    const expected = requests
      .filter((row) => row.tenantId === alpha.id)
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (y.id > x.id ? 1 : -1));
    expect(data.requestLogs.edges.map((edge) => edge.node.id)).toEqual(expected.map((row) => row.id));
    const first = expected[0] as RequestLog;
    expect(data.requestLogs.edges[0]?.node).toEqual({
      id: first.id,
      requestId: first.requestId,
      method: 'POST',
      path: '/graphql',
      operationName: 'ServerList',
      statusCode: 200,
      durationMs: first.durationMs,
      createdAt: minutesAgo(5).toISOString(),
    } satisfies RequestNode);
  });

  it('keeps tenants apart and shows admins everything', async () => {
    const betaData = dataOf(await query<RequestLogListQuery>(RequestLogListDocument, {}, keys.betaRead));
    expect(durations(betaData).sort((x, y) => x - y)).toEqual([100, 300]);
    const all = dataOf(await query<RequestLogListQuery>(RequestLogListDocument, { first: 100 }));
    expect(all.requestLogs.totalCount).toBe(requests.length);
  });

  it('filters by operation, duration, status and time', async () => {
    const cases: [Record<string, unknown>, number[]][] = [
      [{ operationName: 'DashboardOverview' }, [50, 60]],
      [{ minDurationMs: 70 }, [70, 80, 1000, 5000]],
      [{ minDurationMs: 70.5 }, [80, 1000, 5000]],
      [{ statusCode: 500 }, [50, 1000, 5000]],
      [{ statusCode: 500, operationName: 'ServerList', minDurationMs: 2000 }, [5000]],
      [{ since: minutesAgo(70).toISOString(), until: minutesAgo(20).toISOString() }, [30, 40, 50, 60]],
      [{ since: minutesAgo(301).toISOString(), until: minutesAgo(299).toISOString() }, [1000]],
    ];
    for (const [filter, expected] of cases) {
      const data = dataOf(
        await query<RequestLogListQuery>(RequestLogListDocument, { filter, first: 100 }, keys.alphaRead),
      );
      expect(
        durations(data).sort((x, y) => x - y),
        JSON.stringify(filter),
      ).toEqual(expected);
      expect(data.requestLogs.totalCount).toBe(expected.length);
    }
  });

  it('pages through every row once', async () => {
    const PAGE = `query Page($after: String) {
      requestLogs(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
    }`;
    type Page = {
      requestLogs: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { id: string } }[];
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const response: Response<Page> = await app.graphql<Page>({ query: PAGE, variables: { after } });
      const data: Page = dataOf(response);
      seen.push(...data.requestLogs.edges.map((edge) => edge.node.id));
      if (!data.requestLogs.pageInfo.hasNextPage) break;
      after = data.requestLogs.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(requests.length);
    expect(new Set(seen).size).toBe(requests.length);
  });

  it('rejects bad filters', async () => {
    const filters: [Record<string, unknown>, string][] = [
      [{ statusCode: 42 }, 'statusCode'],
      [{ minDurationMs: -1 }, 'minDurationMs'],
      [{ since: minutesAgo(1).toISOString(), until: minutesAgo(2).toISOString() }, 'until'],
    ];
    for (const [filter, field] of filters) {
      expectError(await query(RequestLogListDocument, { filter }), 'BAD_USER_INPUT', field);
    }
    expectError(await query(RequestLogListDocument, {}, keys.alphaWrite), 'FORBIDDEN');
  });
});

describe('Maintenance', () => {
  it('shows admins the size of every table and the use of every index', async () => {
    await app.orm.em.fork().execute('analyze');
    const data = dataOf(await query<MaintenanceQuery>(MaintenanceDocument, {}));
    const tables = new Map(data.databaseSizeSummary.map((table) => [table.tableName, table]));
    for (const table of ['request_logs', 'audit_logs', 'mcp_servers', 'tenants', 'users']) {
      expect(tables.get(table)?.totalBytes, table).toBeGreaterThan(0);
    }
    expect(tables.get('tenants')?.rowEstimate).toBe(3);
    expect(tables.get('mcp_servers')?.rowEstimate).toBe(7);
    const sizes = data.databaseSizeSummary.map((table) => table.totalBytes);
    expect(sizes).toEqual([...sizes].sort((x, y) => y - x)); // largest first
    const indexes = new Map(data.indexUsageSummary.map((index) => [index.indexName, index]));
    expect(indexes.get('request_logs_request_id_unique')).toMatchObject({ tableName: 'request_logs' });
    for (const index of data.indexUsageSummary) {
      expect(index.scans).toBeGreaterThanOrEqual(0);
      expect(index.sizeBytes).toBeGreaterThan(0);
    }
  });

  it('is for platform admins only', async () => {
    for (const key of [keys.alphaRead, keys.alphaMetrics, keys.platformRead]) {
      const response = await query(MaintenanceDocument, {}, key);
      expectError(response, 'FORBIDDEN');
      expect(response.data).toBeNull();
    }
  });
});
