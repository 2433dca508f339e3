import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

let db: TestDatabase;
let app: TestApp;
let metricsKey: string;
let readKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const tenant = await seed(app.orm).tenant('observed');
  ({ key: metricsKey } = await seed(app.orm).key([ApiKeyScope.METRICS]));
  ({ key: readKey } = await tenant.key([ApiKeyScope.READ]));
  await tenant.server('healthy-one');
  await tenant.server('healthy-two');
  await app.orm.em
    .fork()
    .execute("update mcp_servers set health_status = 'healthy' where name in ('healthy-one', 'healthy-two')");
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function scrape(target: TestApp = app, key: string | null = metricsKey) {
  const response = await fetch(`${target.origin}/metrics`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  return { response, text: await response.text() };
}

/** The value of one sample, by its name and labels as written (`name{a="b"}`); undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('answers a METRICS key in the Prometheus text format, and refuses others like /graphql does', async () => {
    const { response, text } = await scrape();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE mcp_gateway_graphql_requests_total counter');
    expect(text).toContain('# TYPE mcp_gateway_tool_call_duration_seconds histogram');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('mcp_gateway_event_bus_ready{kind=');
    const anonymous = await scrape(app, null);
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(JSON.parse(anonymous.text)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const reader = await scrape(app, readKey);
    expect(reader.response.status).toBe(403);
    expect(JSON.parse(reader.text)).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('counts GraphQL operations by type and outcome, and errors by code', async () => {
    const before = (await scrape()).text;
    await app.graphql({ query: '{ viewer { apiKey { scopes } } }', key: ADMIN_KEY });
    await app.graphql({ query: '{ server(id: "nope") { id } }', key: ADMIN_KEY });
    const after = (await scrape()).text;
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta('mcp_gateway_graphql_requests_total{operation_type="query",outcome="ok"}')).toBe(1);
    expect(delta('mcp_gateway_graphql_requests_total{operation_type="query",outcome="error"}')).toBe(1);
    expect(delta('mcp_gateway_graphql_errors_total{code="NOT_FOUND"}')).toBe(1);
    expect(delta('mcp_gateway_graphql_request_duration_seconds_count{operation_type="query"}')).toBe(2);
  });

  it('reads servers by health status and circuits by state from the database at each scrape', async () => {
    const { text } = await scrape();
    expect(sample(text, 'mcp_gateway_servers{status="HEALTHY"}')).toBe(2);
    await seed(app.orm)
      .tenant('observed-too')
      .then((tenant) => tenant.server('unknown-one'));
    expect(sample((await scrape()).text, 'mcp_gateway_servers{status="UNKNOWN"}')).toBe(1);
  });

  it('counts agent requests by MCP method and status, and rate-limit refusals by budget', async () => {
    const before = (await scrape()).text;
    await fetch(`${app.origin}/mcp/00000000-0000-4000-8000-000000000000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no/such/method' }),
    });
    const { key } = await seed(app.orm).key([ApiKeyScope.READ], { rateLimitPerHour: 1 });
    await app.graphql({ query: '{ viewer { apiKey { scopes } } }', key });
    await app.graphql({ query: '{ viewer { apiKey { scopes } } }', key });
    const after = (await scrape()).text;
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta('mcp_gateway_mcp_requests_total{method="other",status="401"}')).toBe(1);
    expect(delta('mcp_gateway_rate_limit_refusals_total{budget="perHour"}')).toBe(1);
  });

  it('labels nothing with an id, a name or a URL: every label value comes from a small fixed set', async () => {
    const { text } = await scrape();
    const values = [...text.matchAll(/="([^"]*)"/g)].map((match) => match[1] ?? '');
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect(value).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(value).not.toMatch(/:\/\//);
      expect(value).not.toMatch(/healthy-one|observed/);
    }
  });
});

describe('METRICS_ALLOW', () => {
  let open: TestApp;

  beforeAll(async () => {
    open = await startTestApp(db.target, { METRICS_ALLOW: '127.0.0.1/32' });
  });

  afterAll(async () => {
    await open?.close();
  });

  it('lets a scraper at an allowed address read /metrics without a key', async () => {
    const { response, text } = await scrape(open, null);
    expect(response.status).toBe(200);
    expect(text).toContain('mcp_gateway_servers{status="HEALTHY"} 2');
  });
});
