import { randomBytes } from 'node:crypto';
import { INVALID_SPAN_CONTEXT, ProxyTracerProvider, propagation, trace } from '@opentelemetry/api';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { createLogger } from '../src/logger.js';
import { startTracing } from '../src/observability/tracing.js';
import { CallToolDocument } from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  closedAfterAll,
  fullCatalog,
  startModernServer,
  type ToolCallParams,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';

// Without OTEL_EXPORTER_OTLP_ENDPOINT (the default), no SDK is registered: this file's process never starts one.

const started = closedAfterAll();
let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('tracing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('starts no SDK: the API keeps its no-op tracer and propagator', () => {
    const config = loadConfig({});
    expect(config.tracing.enabled).toBe(false);
    expect(startTracing(config.tracing, 'test', createLogger('silent'))).toBeNull();
    const provider = trace.getTracerProvider();
    expect(provider).toBeInstanceOf(ProxyTracerProvider);
    expect((provider as ProxyTracerProvider).getDelegate().constructor.name).toBe('NoopTracerProvider');
    const span = trace.getTracer('anyone').startSpan('anything');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext()).toEqual(INVALID_SPAN_CONTEXT);
    expect(propagation.fields()).toEqual([]);
  });

  it('sends no trace context upstream, whatever the caller sent, and answers as ever', async () => {
    const traceparents: string[] = [];
    const toolCalls: ToolCallParams[] = [];
    const upstream = await started(
      startModernServer(
        { ...fullCatalog, name: 'untraced' },
        {
          onRequest: (_authorization, headers) => {
            if (headers.traceparent !== undefined) traceparents.push(String(headers.traceparent));
          },
          onToolCall: (params) => toolCalls.push(params),
        },
      ),
    );
    const tenant = await seed(app.orm).tenant('untraced');
    const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE, ApiKeyScope.PROXY]);
    const registered = await app.graphql<{ registerServer: { id: string } }>({
      query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      variables: {
        input: {
          name: 'untraced',
          endpointUrl: upstream.url,
          transportType: 'STREAMABLE_HTTP',
          discover: true,
        },
      },
      key,
    });
    expect(registered.errors).toBeUndefined();
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const response = await app.graphql<{ callTool: { isError: boolean } }>({
      query: print(CallToolDocument),
      variables: {
        input: { serverId: registered.data?.registerServer.id, toolName: 'search', arguments: {} },
      },
      key,
      headers: { traceparent },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.callTool.isError).toBe(false);
    expect(toolCalls).toHaveLength(1);
    expect(toolCalls[0]?._meta?.traceparent).toBeUndefined();
    expect(traceparents).toEqual([]);
  });
});
