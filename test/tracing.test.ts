import { randomBytes } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToNanoseconds } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { createLogger } from '../src/logger.js';
import { startTracing, type Tracing } from '../src/observability/tracing.js';
import { CallToolDocument } from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { eventually } from './support/eventually.js';
import {
  closedAfterAll,
  fullCatalog,
  type HttpServerOptions,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
  type ToolCallParams,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';

// The SDK as the process starts it (tracing.ts), with the SDK's in-memory exporter in place of the OTLP one:
// nothing is sent to the configured endpoint. The app runs with the same environment, so its seams are on.
const TRACING_ENV = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

const exporter = new InMemorySpanExporter();
const started = closedAfterAll();
let tracing: Tracing | null;
let db: TestDatabase;
let app: TestApp;
let key: string;

/** What the upstream servers saw: every request's `traceparent` header, every tools/call's params. */
const upstreamTraceparents: string[] = [];
const upstreamToolCalls: ToolCallParams[] = [];
const observed: HttpServerOptions = {
  onRequest: (_authorization, headers) => {
    if (typeof headers.traceparent === 'string') upstreamTraceparents.push(headers.traceparent);
  },
  onToolCall: (params) => upstreamToolCalls.push(params),
};

beforeAll(async () => {
  tracing = startTracing(loadConfig(TRACING_ENV).tracing, 'test', createLogger('silent'), {
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  db = await createTestDatabase();
  app = await startTestApp(db.target, TRACING_ENV);
  const tenant = await seed(app.orm).tenant('traced');
  ({ key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE, ApiKeyScope.PROXY]));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await tracing?.shutdown();
});

/** A caller's W3C trace context: a new trace id and the caller's own span id. */
function callerContext() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const spansOf = (traceId: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);

/** The trace's finished span that `matches`, once it has ended (server spans end with their response). */
async function finishedSpan(
  traceId: string,
  what: string,
  matches: (span: ReadableSpan) => boolean,
): Promise<ReadableSpan> {
  await eventually(() => spansOf(traceId).some(matches), `the span ${what} ended`);
  const span = spansOf(traceId).find(matches);
  if (span === undefined) throw new Error(`no span ${what}`);
  return span;
}

const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const isSql = (span: ReadableSpan) => span.attributes['db.system.name'] === 'postgresql';

async function registerServer(name: string, url: string, transportType = 'STREAMABLE_HTTP'): Promise<string> {
  const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
    query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    variables: { input: { name, endpointUrl: url, transportType, discover: true } },
    key,
  });
  expect(errors).toBeUndefined();
  return data?.registerServer.id ?? '';
}

describe('tracing with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it("makes a GraphQL operation one SERVER span in the caller's trace, with its SQL statements as children", async () => {
    const caller = callerContext();
    const needle = `needle-${randomBytes(4).toString('hex')}`;
    const response = await app.graphql<{ servers: { totalCount: number } }>({
      query:
        'query TracedServers($search: String!) { servers(first: 5, filter: { search: $search }) { totalCount } }',
      variables: { search: needle },
      key,
      headers: { traceparent: caller.traceparent },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.servers.totalCount).toBe(0);

    const operation = await finishedSpan(
      caller.traceId,
      'of the operation',
      (span) => span.kind === SpanKind.SERVER,
    );
    expect(operation.name).toBe('query TracedServers');
    expect(parentIdOf(operation)).toBe(caller.spanId);
    expect(operation.attributes).toMatchObject({
      'graphql.operation.name': 'TracedServers',
      'graphql.operation.type': 'query',
      'http.request.method': 'POST',
      'url.path': '/graphql',
      'http.response.status_code': 200,
    });
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);

    const statements = spansOf(caller.traceId).filter(isSql);
    // At least the key's admission and the servers' page and count.
    expect(statements.length).toBeGreaterThanOrEqual(2);
    for (const statement of statements) {
      expect(statement.kind).toBe(SpanKind.CLIENT);
      expect(parentIdOf(statement)).toBe(operation.spanContext().spanId);
      const text = String(statement.attributes['db.query.text']);
      expect(text.length).toBeGreaterThan(0);
      // Parameter values never reach a span: not the search text, not the key.
      expect(text).not.toContain(needle);
      expect(text).not.toContain(key);
      // HrTime is [seconds, nanoseconds]: compared as numbers, not as arrays (which `<=` compares as text).
      expect(hrTimeToNanoseconds(statement.startTime)).toBeLessThanOrEqual(
        hrTimeToNanoseconds(statement.endTime),
      );
    }
    expect(statements.map((span) => span.name)).toContain('SELECT');
  });

  it('makes an operation over graphql-ws one SERVER span in the trace its socket was opened in', async () => {
    const caller = callerContext();
    const client = createClient({
      url: app.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}`, traceparent: caller.traceparent },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise((resolve, reject) => {
        let last: unknown;
        client.subscribe(
          { query: 'query OverWebSocket { servers(first: 1) { totalCount } }' },
          { next: (value) => (last = value), error: reject, complete: () => resolve(last) },
        );
      });
      expect(result).toMatchObject({ data: { servers: { totalCount: expect.any(Number) } } });
    } finally {
      await client.dispose();
    }
    const operation = await finishedSpan(
      caller.traceId,
      'query OverWebSocket',
      (span) => span.name === 'query OverWebSocket',
    );
    expect(operation.kind).toBe(SpanKind.SERVER);
    expect(parentIdOf(operation)).toBe(caller.spanId);
    expect(operation.attributes['graphql.operation.name']).toBe('OverWebSocket');
    const sql = spansOf(caller.traceId).filter(isSql);
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.every((span) => parentIdOf(span) === operation.spanContext().spanId)).toBe(true);
  });

  it('records the errors of an operation on its span', async () => {
    const caller = callerContext();
    const response = await app.graphql({
      query: '{ noSuchField }',
      key,
      headers: { traceparent: caller.traceparent },
    });
    expect(response.status).toBe(400);
    const operation = await finishedSpan(
      caller.traceId,
      'of the operation',
      (span) => span.kind === SpanKind.SERVER,
    );
    expect(operation.name).toBe('GraphQL Operation');
    expect(operation.status.code).toBe(SpanStatusCode.ERROR);
    expect(operation.attributes['error.type']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(operation.attributes['http.response.status_code']).toBe(400);
    expect(operation.events.some((event) => event.name === 'exception')).toBe(true);
  });

  it('starts a new trace for a request without traceparent', async () => {
    exporter.reset();
    const response = await app.graphql({ query: 'query Untraced { servers(first: 1) { totalCount } }', key });
    expect(response.errors).toBeUndefined();
    await eventually(
      () => exporter.getFinishedSpans().some((span) => span.name === 'query Untraced'),
      'the operation span ended',
    );
    const operation = exporter.getFinishedSpans().find((span) => span.name === 'query Untraced');
    expect(operation?.parentSpanContext).toBeUndefined();
  });

  it.each([
    ['2026-07-28', startModernServer, 'streamable_http'],
    ['2025-11-25 (sessions)', startStreamableHttpServer, 'streamable_http'],
    ['legacy HTTP+SSE', startSseServer, 'sse'],
  ] as const)(
    'traces a tool call to a %s server and sends it the trace context, as header and _meta',
    async (era, start, transport) => {
      const name = `traced-${era.slice(0, 4)}`;
      const upstream = await started(start({ ...fullCatalog, name }, observed));
      const serverId = await registerServer(name, upstream.url, transport.toUpperCase());
      upstreamTraceparents.length = 0;
      upstreamToolCalls.length = 0;
      const caller = callerContext();
      const response = await app.graphql<{ callTool: { isError: boolean } }>({
        query: print(CallToolDocument),
        variables: { input: { serverId, toolName: 'search', arguments: { query: 'spans' } } },
        key,
        headers: { traceparent: caller.traceparent },
      });
      expect(response.errors).toBeUndefined();
      expect(response.data?.callTool.isError).toBe(false);

      const operation = await finishedSpan(
        caller.traceId,
        'of the operation',
        (span) => span.kind === SpanKind.SERVER,
      );
      expect(operation.name).toBe('mutation CallTool');
      expect(parentIdOf(operation)).toBe(caller.spanId);
      const call = await finishedSpan(
        caller.traceId,
        'of the upstream call',
        (span) => span.kind === SpanKind.CLIENT && !isSql(span),
      );
      expect(call.name).toBe('tools/call search');
      expect(parentIdOf(call)).toBe(operation.spanContext().spanId);
      expect(call.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'search',
        'gen_ai.operation.name': 'execute_tool',
        'mcp_gateway.server.id': serverId,
        'mcp_gateway.mcp.transport': transport,
        'server.address': '127.0.0.1',
        'server.port': Number(new URL(upstream.url).port),
      });
      expect(call.status.code).toBe(SpanStatusCode.UNSET);
      expect(spansOf(caller.traceId).filter(isSql).length).toBeGreaterThan(0);

      // The upstream is told the call's span is the parent of what it does.
      const expected = `00-${caller.traceId}-${call.spanContext().spanId}-01`;
      expect(upstreamTraceparents).toContain(expected);
      expect(upstreamToolCalls).toHaveLength(1);
      expect(upstreamToolCalls[0]?._meta?.traceparent).toBe(expected);
      expect(upstreamToolCalls[0]?.arguments).toEqual({ query: 'spans' });
    },
  );

  it("marks a tool's own error (isError) on the call's span", async () => {
    const upstream = await started(startModernServer({ ...fullCatalog, name: 'traced-failing' }, observed));
    const serverId = await registerServer('traced-failing', upstream.url);
    const caller = callerContext();
    const response = await app.graphql<{ callTool: { isError: boolean } }>({
      query: print(CallToolDocument),
      variables: { input: { serverId, toolName: 'search', arguments: { fail: true } } },
      key,
      headers: { traceparent: caller.traceparent },
    });
    expect(response.data?.callTool.isError).toBe(true);
    const call = await finishedSpan(
      caller.traceId,
      'of the upstream call',
      (span) => span.name === 'tools/call search',
    );
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes['error.type']).toBe('tool_error');
  });

  it("traces an agent's tools/call on /mcp/{id} in the agent's trace, through to the upstream", async () => {
    const upstream = await started(startModernServer({ ...fullCatalog, name: 'traced-agent' }, observed));
    const serverId = await registerServer('traced-agent', upstream.url);
    const created = await app.graphql<{ createVirtualServer: { endpointUrl: string } }>({
      query:
        'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { endpointUrl } }',
      variables: {
        input: {
          name: 'traced-virtual',
          toolNaming: 'AS_IS',
          members: [{ serverId, toolNames: ['search'] }],
        },
      },
      key,
    });
    expect(created.errors).toBeUndefined();
    const caller = callerContext();
    const agent = new Client({ name: 'traced-agent', version: '1.0.0' });
    const endpoint = new URL(created.data?.createVirtualServer.endpointUrl ?? '');
    await agent.connect(
      new StreamableHTTPClientTransport(endpoint, {
        requestInit: { headers: { authorization: `Bearer ${key}`, traceparent: caller.traceparent } },
      }),
    );
    try {
      upstreamToolCalls.length = 0;
      const result = await agent.callTool({ name: 'search', arguments: { query: 'agents' } });
      expect(result.isError).not.toBe(true);
    } finally {
      await agent.close();
    }
    const request = await finishedSpan(
      caller.traceId,
      'of the agent request',
      (span) => span.kind === SpanKind.SERVER && span.attributes['mcp.method.name'] === 'tools/call',
    );
    expect(request.name).toBe('tools/call');
    expect(parentIdOf(request)).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({
      'http.route': '/mcp/{virtualServerId}',
      'http.response.status_code': 200,
    });
    const call = await finishedSpan(
      caller.traceId,
      'of the upstream call',
      (span) => span.name === 'tools/call search',
    );
    expect(parentIdOf(call)).toBe(request.spanContext().spanId);
    expect(upstreamToolCalls[0]?._meta?.traceparent).toBe(
      `00-${caller.traceId}-${call.spanContext().spanId}-01`,
    );
  });
});
