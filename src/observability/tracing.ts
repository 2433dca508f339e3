import { randomUUID } from 'node:crypto';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { SERVICE_VERSION } from './spans.js';

// The OpenTelemetry SDK of a process, started only when an OTLP endpoint is configured. Everything else in the
// code speaks to @opentelemetry/api alone (spans.ts): until a provider is registered here, that is the API's
// no-op tracer and propagator, and the seams that would make spans on the request path are not installed.

export interface Tracing {
  /** Ends the SDK: spans still buffered are exported first. Safe to call twice. */
  shutdown(): Promise<void>;
}

export interface TracingOverrides {
  /** Replaces the OTLP exporter (tests read spans with the SDK's in-memory exporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/**
 * Registers the SDK globally (tracer provider, AsyncLocalStorage context, W3C trace context propagation) when
 * `settings.tracesUrl` is set; returns null, registering nothing, when it is not.
 */
export function startTracing(
  settings: TracingSettings,
  processKind: string,
  log: Logger,
  overrides: TracingOverrides = {},
): Tracing | null {
  if (!settings.enabled || settings.tracesUrl === null) return null;
  // The SDK reports its own trouble (an unreachable collector, dropped spans) through `diag`: into our log.
  diag.setLogger(
    {
      error: (message, ...args) => log.warn({ detail: args.map(String) }, `OpenTelemetry: ${message}`),
      warn: (message, ...args) => log.warn({ detail: args.map(String) }, `OpenTelemetry: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl, headers: { ...settings.headers } });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...settings.resourceAttributes,
        [ATTR_SERVICE_NAME]: settings.serviceName,
        [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
        [ATTR_SERVICE_INSTANCE_ID]: settings.resourceAttributes[ATTR_SERVICE_INSTANCE_ID] ?? randomUUID(),
        'mcp_gateway.process': processKind,
      }),
    ),
    sampler: samplerOf(settings),
    spanProcessors: [...(overrides.spanProcessors ?? [new BatchSpanProcessor(exporter)])],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  log.info(
    { to: new URL(settings.tracesUrl).origin, sampler: settings.sampler },
    'tracing: exporting spans over OTLP',
  );
  let shuttingDown: Promise<void> | undefined;
  return {
    shutdown: () => {
      shuttingDown ??= provider.shutdown();
      return shuttingDown;
    },
  };
}

function samplerOf(settings: TracingSettings): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerRatio);
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}
