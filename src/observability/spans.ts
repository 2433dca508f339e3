import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

// Spans through @opentelemetry/api only: with no SDK registered (tracing.ts), every call here is the API's
// no-op (a non-recording span, nothing injected, nothing extracted).

export const SERVICE_VERSION = '0.1.0';

/** The tracer of this application; a proxy that follows whichever provider is registered. */
export const tracer = trace.getTracer('mcp-registry-gateway', SERVICE_VERSION);

/**
 * Attribute names of semantic conventions still marked experimental: copied, as the conventions package asks,
 * rather than imported from its `incubating` entry point, whose names may change in any minor release.
 */
export const ATTR = {
  GRAPHQL_OPERATION_NAME: 'graphql.operation.name',
  GRAPHQL_OPERATION_TYPE: 'graphql.operation.type',
  MCP_METHOD_NAME: 'mcp.method.name',
  MCP_PROTOCOL_VERSION: 'mcp.protocol.version',
  MCP_SESSION_ID: 'mcp.session.id',
  MCP_RESOURCE_URI: 'mcp.resource.uri',
  GEN_AI_TOOL_NAME: 'gen_ai.tool.name',
  GEN_AI_PROMPT_NAME: 'gen_ai.prompt.name',
  GEN_AI_OPERATION_NAME: 'gen_ai.operation.name',
  /** Ours: the registered server a span talks to. */
  SERVER_ID: 'mcp_gateway.server.id',
  /** Ours: the MCP transport (streamable_http, sse, stdio). */
  MCP_TRANSPORT: 'mcp_gateway.mcp.transport',
} as const;

/** Runs `work` in a new active span (a child of the active one), ended when `work` settles; failures recorded. */
export function inSpan<T>(
  name: string,
  options: { readonly kind: SpanKind; readonly attributes?: Attributes },
  work: (span: Span) => Promise<T>,
  errorTypeOf: (error: unknown) => string = defaultErrorType,
): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      recordFailure(span, error, errorTypeOf(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks the span failed: status ERROR, `error.type`, and the error as an exception event. */
export function recordFailure(span: Span, error: unknown, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

function defaultErrorType(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown';
}

/** The caller's trace context from W3C `traceparent` / `tracestate` request headers (none: a new trace). */
export function incomingContext(headers: IncomingHttpHeaders): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** Starts a SERVER span for an incoming request, as a child of the caller's trace when it sent one. */
export function startServerSpan(
  name: string,
  headers: IncomingHttpHeaders,
  attributes: Attributes,
): { readonly span: Span; readonly context: Context } {
  const parent = incomingContext(headers);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `work` with `ctx` active (its spans and outgoing requests belong to that trace). */
export function withContext<T>(ctx: Context, work: () => T): T {
  return context.with(ctx, work);
}

/**
 * The active trace context as W3C fields (`traceparent`, and `tracestate` when there is one), or undefined
 * when no span is active (always, with tracing off).
 */
export function activeTraceFields(): Record<string, string> | undefined {
  const active = context.active();
  if (trace.getSpan(active) === undefined) return undefined;
  const fields: Record<string, string> = {};
  propagation.inject(active, fields);
  return Object.keys(fields).length === 0 ? undefined : fields;
}

/** `init` with the active trace context added to its headers; `init` itself when no span is active. */
export function withTraceHeaders(init: RequestInit | undefined): RequestInit | undefined {
  const fields = activeTraceFields();
  if (fields === undefined) return init;
  const headers = new Headers(init?.headers);
  for (const [name, value] of Object.entries(fields)) headers.set(name, value);
  return { ...init, headers };
}
