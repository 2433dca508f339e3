import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { ATTR, activeTraceFields, inSpan } from '../observability/spans.js';
import type { McpTarget } from './mcp-session.js';
import { McpInspectionError } from './probe-outcome.js';

// Every exchange this process starts with an MCP server is one CLIENT span: a request the gateway forwards
// (`tools/call <tool>`, `resources/read`, `prompts/get <prompt>`, the names the conventions give them), or a
// whole session of the registry's own (`mcp.probe`, `mcp.inspect`, `mcp.watch`). Whatever the session sends
// meanwhile carries the span's W3C trace context: the `traceparent` header on every HTTP request (mcp-session.ts)
// and, in the requests that have params, `_meta.traceparent` (SEP-414), which also reaches STDIO servers.

/** What the span is about, beyond the server: attributes, set only when the span records. */
export type McpSpanAttributes = Readonly<Record<string, string>>;

/** Runs `work` (one exchange with `target`) in a CLIENT span; a failure's `error.type` is its outcome. */
export function inMcpSpan<T>(
  name: string,
  target: McpTarget,
  attributes: McpSpanAttributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return inSpan(
    name,
    { kind: SpanKind.CLIENT },
    (span) => {
      if (span.isRecording()) {
        span.setAttributes(attributes);
        describeTarget(span, target);
      }
      return work(span);
    },
    (error) => (error instanceof McpInspectionError ? error.outcome : 'internal'),
  );
}

/** Marks the span failed without an exception: a probe's outcome, a tool's own `isError`. */
export function markFailed(span: Span, errorType: string, message?: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined && { message }) });
}

const NO_META = Object.freeze({});

/**
 * `{ _meta: { traceparent, tracestate? } }` for a request's params, the active span's W3C trace context; an
 * empty object to spread when no span is active (always, with tracing off).
 */
export function traceMeta(): { _meta?: Record<string, string> } {
  const fields = activeTraceFields();
  return fields === undefined ? NO_META : { _meta: fields };
}

function describeTarget(span: Span, target: McpTarget): void {
  span.setAttribute(ATTR.MCP_TRANSPORT, target.transport);
  if (target.serverId !== undefined) span.setAttribute(ATTR.SERVER_ID, target.serverId);
  if (target.transport === 'stdio') {
    span.setAttribute(ATTR_NETWORK_TRANSPORT, 'pipe');
    return;
  }
  let url: URL;
  try {
    url = new URL(target.endpointUrl);
  } catch {
    return;
  }
  span.setAttribute(ATTR_NETWORK_TRANSPORT, 'tcp');
  span.setAttribute(ATTR_SERVER_ADDRESS, url.hostname);
  span.setAttribute(ATTR_SERVER_PORT, Number(url.port) || (url.protocol === 'https:' ? 443 : 80));
}
