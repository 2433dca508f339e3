import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { inSpan } from '../src/observability/spans.js';
import { startTracing } from '../src/observability/tracing.js';

// The SDK as the process starts it, exporting over OTLP (HTTP, protobuf) to a collector of the test's own.

interface Export {
  readonly path: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const exports: Export[] = [];
const collector = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    exports.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

describe('the OTLP exporter', () => {
  it('sends finished spans to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces with the configured headers', async () => {
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
    const { port } = collector.address() as AddressInfo;
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=t0ken',
      OTEL_SERVICE_NAME: 'gateway-under-test',
    });
    const tracing = startTracing(config.tracing, 'test', createLogger('silent'));
    expect(tracing).not.toBeNull();
    await inSpan('exported-span', { kind: SpanKind.INTERNAL }, async () => {});
    // Shutting down flushes what the batch processor holds.
    await tracing?.shutdown();
    expect(exports).toHaveLength(1);
    const [sent] = exports;
    expect(sent?.path).toBe('/v1/traces');
    expect(sent?.headers['content-type']).toBe('application/x-protobuf');
    expect(sent?.headers['x-collector-token']).toBe('t0ken');
    // Protobuf keeps strings as they are: the span's name and the service's are in the body.
    expect(sent?.body.includes(Buffer.from('exported-span'))).toBe(true);
    expect(sent?.body.includes(Buffer.from('gateway-under-test'))).toBe(true);
  });
});
