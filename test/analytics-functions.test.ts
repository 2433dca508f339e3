import { randomBytes } from 'node:crypto';
import { ref } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestLog } from '../src/audit/request-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { type EntityManager, initOrm, type Orm } from '../src/db/orm.js';
import { entities } from '../src/entities.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CircuitBreaker } from '../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { CircuitBreakerState, ServerStatus, TransportType } from '../src/registry/registry.enums.js';
import { ServerTool } from '../src/registry/server-tool.entity.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { APPLICATION_TABLES, createTestDatabase, type TestDatabase } from './support/database.js';

/**
 * The analytics functions and views of migrations/Migration20261128020000.ts, checked against figures
 * worked out by hand (or, for percentiles, with percentile_cont's interpolation) from the rows seeded here.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

type Value = number | string | boolean | Date | null;
type Row = Record<string, Value>;

let db: TestDatabase;
let orm: Orm;
let alpha: Tenant;
let beta: Tenant;
let empty: Tenant;

// ---------------------------------------------------------------------------------------------------------
// Seed data

interface ServerSeed {
  readonly name: string;
  readonly status: ServerStatus;
  readonly avgResponseTime: number | null;
  readonly breaker?: CircuitBreakerState;
  /** Tool name to its lifetime call counter. */
  readonly tools?: Record<string, number>;
}

const ALPHA_SERVERS: ServerSeed[] = [
  {
    name: 'a1',
    status: ServerStatus.HEALTHY,
    avgResponseTime: 10,
    breaker: CircuitBreakerState.CLOSED,
    tools: { search: 10, fetch: 5 },
  },
  {
    name: 'a2',
    status: ServerStatus.HEALTHY,
    avgResponseTime: 30,
    breaker: CircuitBreakerState.OPEN,
    tools: { run: 0 },
  },
  { name: 'a3', status: ServerStatus.DEGRADED, avgResponseTime: 50, breaker: CircuitBreakerState.OPEN },
  {
    name: 'a4',
    status: ServerStatus.UNHEALTHY,
    avgResponseTime: null,
    breaker: CircuitBreakerState.HALF_OPEN,
  },
  { name: 'a5', status: ServerStatus.UNKNOWN, avgResponseTime: null },
];

const BETA_SERVERS: ServerSeed[] = [
  {
    name: 'b1',
    status: ServerStatus.MAINTENANCE,
    avgResponseTime: 200,
    breaker: CircuitBreakerState.OPEN,
    tools: { export: 1000 },
  },
  { name: 'b2', status: ServerStatus.DEGRADED, avgResponseTime: 90 },
  { name: 'b3', status: ServerStatus.UNHEALTHY, avgResponseTime: 20, breaker: CircuitBreakerState.CLOSED },
];

interface RequestSeed {
  readonly tenant: 'alpha' | 'beta' | null;
  readonly durationMs: number;
  readonly statusCode: number;
  readonly hoursAgo: number;
}

/** Alpha: durations 1..100; every 10th fails with 500, every other 8th with 400 (20 errors); 1..5 are 23 h old. */
const ALPHA_REQUESTS: RequestSeed[] = Array.from({ length: 100 }, (_, index) => {
  const durationMs = index + 1;
  const statusCode =
    durationMs % 10 === 0 ? 500 : durationMs % 8 === 0 ? 400 : durationMs % 7 === 0 ? 304 : 200;
  return { tenant: 'alpha', durationMs, statusCode, hoursAgo: durationMs <= 5 ? 23 : 0 };
});

const BETA_REQUESTS: RequestSeed[] = [
  { tenant: 'beta', durationMs: 150, statusCode: 200, hoursAgo: 0 },
  { tenant: 'beta', durationMs: 250, statusCode: 200, hoursAgo: 0 },
  { tenant: 'beta', durationMs: 350, statusCode: 503, hoursAgo: 0 },
  { tenant: 'beta', durationMs: 450, statusCode: 200, hoursAgo: 0 },
  { tenant: 'beta', durationMs: 1000, statusCode: 201, hoursAgo: 0 },
];

const PLATFORM_REQUESTS: RequestSeed[] = [
  { tenant: null, durationMs: 2000, statusCode: 200, hoursAgo: 0 },
  { tenant: null, durationMs: 3000, statusCode: 502, hoursAgo: 0 },
];

/** Outside a 24-hour window: slow failures that would change every figure if they were counted. */
const OLD_REQUESTS: RequestSeed[] = [
  { tenant: 'alpha', durationMs: 5000, statusCode: 500, hoursAgo: 30 },
  { tenant: 'alpha', durationMs: 6000, statusCode: 500, hoursAgo: 30 },
  { tenant: 'alpha', durationMs: 7000, statusCode: 500, hoursAgo: 30 },
  { tenant: 'beta', durationMs: 9000, statusCode: 500, hoursAgo: 30 },
  { tenant: null, durationMs: 9500, statusCode: 500, hoursAgo: 30 },
];

const ALL_REQUESTS = [...ALPHA_REQUESTS, ...BETA_REQUESTS, ...PLATFORM_REQUESTS, ...OLD_REQUESTS];

function hoursAgo(hours: number): Date {
  return new Date(Date.now() - hours * HOUR_MS);
}

function seedServers(em: EntityManager, tenant: Tenant, servers: ServerSeed[]): void {
  for (const seed of servers) {
    const server = new MCPServer({
      tenant: ref(tenant),
      name: seed.name,
      endpointUrl: `https://${seed.name}.example.test/mcp`,
      transportType: TransportType.STREAMABLE_HTTP,
    });
    server.healthStatus = seed.status;
    server.avgResponseTime = seed.avgResponseTime;
    em.persist(server);
    if (seed.breaker) {
      const breaker = new CircuitBreaker(ref(server), {
        failureThreshold: 5,
        successThreshold: 2,
        openTimeoutMs: 30_000,
      });
      breaker.state = seed.breaker;
      em.persist(breaker);
    }
    for (const [name, totalCalls] of Object.entries(seed.tools ?? {})) {
      const tool = new ServerTool(ref(server), name);
      tool.totalCalls = totalCalls;
      em.persist(tool);
    }
  }
}

function seedApiKey(em: EntityManager, tenant: Tenant | null, changes: Partial<ApiKey> = {}): void {
  const apiKey = new ApiKey({
    name: 'analytics test key',
    keyHash: randomBytes(32).toString('hex'),
    prefix: 'mcp_test',
    scopes: [ApiKeyScope.READ],
    tenant: tenant ? ref(tenant) : null,
  });
  em.persist(Object.assign(apiKey, changes));
}

function seedRequests(em: EntityManager, requests: RequestSeed[]): void {
  const tenants = { alpha, beta };
  requests.forEach((seed, index) => {
    const log = new RequestLog({
      requestId: `req-${index}`,
      method: 'POST',
      path: '/graphql',
      statusCode: seed.statusCode,
      durationMs: seed.durationMs,
    });
    log.tenantId = seed.tenant ? tenants[seed.tenant].id : null;
    log.createdAt = hoursAgo(seed.hoursAgo);
    em.persist(log);
  });
}

async function seedAll(): Promise<void> {
  const em = orm.em.fork();
  alpha = new Tenant('alpha');
  beta = new Tenant('beta');
  empty = new Tenant('empty');
  em.persist([alpha, beta, empty]);
  seedServers(em, alpha, ALPHA_SERVERS);
  seedServers(em, beta, BETA_SERVERS);

  seedApiKey(em, alpha); // active, never expires
  seedApiKey(em, alpha, { expiresAt: new Date(Date.now() + DAY_MS) }); // active, expires tomorrow
  seedApiKey(em, alpha, { expiresAt: new Date(Date.now() - DAY_MS) }); // expired
  seedApiKey(em, alpha, { isActive: false }); // revoked
  seedApiKey(em, alpha, { isLocked: true }); // locked after failed attempts
  seedApiKey(em, beta);
  seedApiKey(em, null); // platform key: no tenant

  seedRequests(em, ALL_REQUESTS);
  await em.flush();
}

// ---------------------------------------------------------------------------------------------------------
// Queries and reference figures

/** Runs `sql` on a fresh fork; bigint columns (strings from node-postgres) come back as numbers. */
async function rows(sql: string, params: unknown[] = []): Promise<Row[]> {
  const result = await orm.em.fork().execute<Record<string, unknown>[]>(sql, params);
  return result.map((row) =>
    Object.fromEntries(Object.entries(row).map(([column, value]) => [column, asValue(value)])),
  );
}

function asValue(value: unknown): Value {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) {
    return value;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return /^-?\d+$/.test(value) ? Number(value) : value;
  throw new Error(`unexpected column value ${String(value)}`);
}

async function singleRow(sql: string, params: unknown[] = []): Promise<Row> {
  const result = await rows(sql, params);
  expect(result).toHaveLength(1);
  return result[0] as Row;
}

/** PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks. */
function percentileCont(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const lower = sorted[Math.floor(position)] as number;
  const upper = sorted[Math.ceil(position)] as number;
  return lower + (upper - lower) * (position - Math.floor(position));
}

/** What get_request_performance_summary must report for these requests (already filtered). */
function expectedPerformance(requests: RequestSeed[]): Record<string, unknown> {
  const durations = requests.map((request) => request.durationMs);
  const errors = requests.filter((request) => request.statusCode >= 400).length;
  return {
    total_requests: requests.length,
    error_count: errors,
    error_rate: expect.closeTo(errors / requests.length, 12),
    avg_duration_ms: expect.closeTo(durations.reduce((sum, ms) => sum + ms, 0) / requests.length, 9),
    p50_duration_ms: expect.closeTo(percentileCont(durations, 0.5), 9),
    p95_duration_ms: expect.closeTo(percentileCont(durations, 0.95), 9),
    p99_duration_ms: expect.closeTo(percentileCont(durations, 0.99), 9),
    max_duration_ms: Math.max(...durations),
  };
}

const withinHours = (hours: number) => (request: RequestSeed) => request.hoursAgo < hours;

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await initOrm({ target: db.target, entities });
  await orm.getMigrator().up();
  await seedAll();
});

afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

describe('get_server_health_summary', () => {
  it('counts every server by health status across the platform', async () => {
    expect(await singleRow('select * from get_server_health_summary()')).toEqual({
      total_servers: 8,
      healthy_servers: 2,
      degraded_servers: 2,
      unhealthy_servers: 2,
      unknown_servers: 1,
      maintenance_servers: 1,
      // Servers without a measurement (null) are left out of the average: (10+30+50+200+90+20) / 6.
      avg_response_time: expect.closeTo(400 / 6, 9),
      open_circuits: 3,
    });
  });

  it('counts only the given tenant', async () => {
    expect(await singleRow('select * from get_server_health_summary(?::uuid)', [alpha.id])).toEqual({
      total_servers: 5,
      healthy_servers: 2,
      degraded_servers: 1,
      unhealthy_servers: 1,
      unknown_servers: 1,
      maintenance_servers: 0,
      avg_response_time: 30,
      open_circuits: 2,
    });
    expect(await singleRow('select * from get_server_health_summary(?::uuid)', [beta.id])).toEqual({
      total_servers: 3,
      healthy_servers: 0,
      degraded_servers: 1,
      unhealthy_servers: 1,
      unknown_servers: 0,
      maintenance_servers: 1,
      avg_response_time: expect.closeTo(310 / 3, 9),
      open_circuits: 1,
    });
  });

  it('reports zeros and no average for a tenant without servers', async () => {
    expect(await singleRow('select * from get_server_health_summary(?::uuid)', [empty.id])).toEqual({
      total_servers: 0,
      healthy_servers: 0,
      degraded_servers: 0,
      unhealthy_servers: 0,
      unknown_servers: 0,
      maintenance_servers: 0,
      avg_response_time: null,
      open_circuits: 0,
    });
  });
});

describe('get_request_performance_summary', () => {
  it('summarises the last 24 hours across the platform, leaving older requests out', async () => {
    const summary = await singleRow('select * from get_request_performance_summary(24)');
    const inWindow = ALL_REQUESTS.filter(withinHours(24));
    expect(inWindow).toHaveLength(107);
    expect(summary).toEqual(expectedPerformance(inWindow));
    expect(summary).toMatchObject({ total_requests: 107, error_count: 22, max_duration_ms: 3000 });
  });

  it('summarises one tenant', async () => {
    const alphaSummary = await singleRow('select * from get_request_performance_summary(24, ?::uuid)', [
      alpha.id,
    ]);
    expect(alphaSummary).toEqual(expectedPerformance(ALPHA_REQUESTS));
    // Durations 1..100: the figures percentile_cont gives, spelled out.
    expect(alphaSummary).toEqual({
      total_requests: 100,
      error_count: 20,
      error_rate: 0.2,
      avg_duration_ms: 50.5,
      p50_duration_ms: 50.5,
      p95_duration_ms: expect.closeTo(95.05, 9),
      p99_duration_ms: expect.closeTo(99.01, 9),
      max_duration_ms: 100,
    });

    expect(await singleRow('select * from get_request_performance_summary(24, ?::uuid)', [beta.id])).toEqual({
      total_requests: 5,
      error_count: 1,
      error_rate: 0.2,
      avg_duration_ms: 440,
      p50_duration_ms: 350,
      p95_duration_ms: expect.closeTo(890, 9),
      p99_duration_ms: expect.closeTo(978, 9),
      max_duration_ms: 1000,
    });
  });

  it('honours the window length', async () => {
    const lastHour = await singleRow('select * from get_request_performance_summary(1, ?::uuid)', [alpha.id]);
    expect(lastHour).toEqual(expectedPerformance(ALPHA_REQUESTS.filter(withinHours(1))));
    expect(lastHour).toMatchObject({ total_requests: 95, avg_duration_ms: 53 });

    const lastTwoDays = await singleRow('select * from get_request_performance_summary(48)');
    expect(lastTwoDays).toEqual(expectedPerformance(ALL_REQUESTS));
  });

  it('reports no requests, a zero error rate and no durations for an idle tenant', async () => {
    expect(await singleRow('select * from get_request_performance_summary(24, ?::uuid)', [empty.id])).toEqual(
      {
        total_requests: 0,
        error_count: 0,
        error_rate: 0,
        avg_duration_ms: null,
        p50_duration_ms: null,
        p95_duration_ms: null,
        p99_duration_ms: null,
        max_duration_ms: null,
      },
    );
  });
});

describe('get_tenant_usage_summary', () => {
  it("reports a tenant's requests, servers, tools and keys", async () => {
    expect(await singleRow('select * from get_tenant_usage_summary(?::uuid, 24)', [alpha.id])).toEqual({
      tenant_id: alpha.id,
      total_requests: 100,
      error_count: 20,
      error_rate: 0.2,
      avg_duration_ms: 50.5,
      total_servers: 5,
      active_servers: 3, // healthy or degraded
      total_tools: 3,
      tool_calls: 15,
      active_api_keys: 2, // neither revoked, locked nor expired
    });
    expect(await singleRow('select * from get_tenant_usage_summary(?::uuid, 24)', [beta.id])).toEqual({
      tenant_id: beta.id,
      total_requests: 5,
      error_count: 1,
      error_rate: 0.2,
      avg_duration_ms: 440,
      total_servers: 3,
      active_servers: 1,
      total_tools: 1,
      tool_calls: 1000,
      active_api_keys: 1,
    });
  });

  it('limits the request figures to the window', async () => {
    expect(await singleRow('select * from get_tenant_usage_summary(?::uuid, 1)', [alpha.id])).toMatchObject({
      total_requests: 95,
      error_count: 20,
      avg_duration_ms: 53,
      total_servers: 5,
    });
  });

  it('reports zeros for a tenant with nothing', async () => {
    expect(await singleRow('select * from get_tenant_usage_summary(?::uuid)', [empty.id])).toEqual({
      tenant_id: empty.id,
      total_requests: 0,
      error_count: 0,
      error_rate: 0,
      avg_duration_ms: null,
      total_servers: 0,
      active_servers: 0,
      total_tools: 0,
      tool_calls: 0,
      active_api_keys: 0,
    });
  });
});

describe('maintenance views', () => {
  beforeAll(async () => {
    await orm.em.fork().execute('analyze');
  });

  function byTable(result: Row[]): Map<Value, Row> {
    return new Map(result.map((row) => [row.table_name ?? null, row]));
  }

  it('database_size_summary sizes every table and, after analyze, estimates rows exactly', async () => {
    const sizes = byTable(await rows('select * from database_size_summary'));
    for (const table of APPLICATION_TABLES) {
      const row = sizes.get(table);
      expect(row, table).toBeDefined();
      expect(row?.total_bytes, table).toBeGreaterThan(0);
      expect(row?.table_bytes, table).toBeGreaterThanOrEqual(0);
      expect(row?.index_bytes, table).toBeGreaterThan(0); // every table has its primary key index
    }
    expect(sizes.get('request_logs')?.row_estimate).toBe(ALL_REQUESTS.length);
    expect(sizes.get('mcp_servers')?.row_estimate).toBe(ALPHA_SERVERS.length + BETA_SERVERS.length);
    expect(sizes.get('tenants')?.row_estimate).toBe(3);
    expect(sizes.get('api_keys')?.row_estimate).toBe(7);
  });

  it('index_usage_summary lists the indexes with their size and uniqueness', async () => {
    const indexes = new Map(
      (await rows('select * from index_usage_summary')).map((row) => [row.index_name, row]),
    );
    expect(indexes.get('request_logs_request_id_unique')).toMatchObject({
      table_name: 'request_logs',
      is_unique: true,
    });
    expect(indexes.get('mcp_servers_discovery_idx')).toMatchObject({
      table_name: 'mcp_servers',
      is_unique: false,
    });
    for (const row of indexes.values()) {
      expect(row.scans).toBeGreaterThanOrEqual(0);
      expect(row.tuples_read).toBeGreaterThanOrEqual(0);
      expect(row.size_bytes).toBeGreaterThan(0);
    }
  });

  it('performance_monitoring has a row of non-negative counters per table', async () => {
    const tables = byTable(await rows('select * from performance_monitoring'));
    for (const table of APPLICATION_TABLES) {
      const row = tables.get(table);
      expect(row, table).toBeDefined();
      for (const counter of ['seq_scan', 'seq_tup_read', 'idx_scan', 'live_rows', 'dead_rows'] as const) {
        expect(row?.[counter], `${table}.${counter}`).toBeGreaterThanOrEqual(0);
      }
      expect(row?.dead_row_ratio).toBeGreaterThanOrEqual(0);
      expect(row?.dead_row_ratio).toBeLessThanOrEqual(1);
    }
  });
});
