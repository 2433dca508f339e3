import type {
  GetPromptResult,
  Progress,
  ReadResourceResult,
  RequestOptions,
} from '@modelcontextprotocol/client';
import { ATTR } from '../observability/spans.js';
import { elapsedSince } from './deadline.js';
import type { McpClientOptions, McpSession, McpTarget } from './mcp-session.js';
import { inMcpSpan, markFailed, traceMeta } from './mcp-tracing.js';
import type { UpstreamPool } from './upstream-pool.js';

// The requests the gateway forwards to an upstream server for a client: tools/call, resources/read,
// prompts/get, each on a session of the pool (connected once, reused) within the timeout.

export interface UpstreamRequestOptions extends McpClientOptions {
  /** The client's cancellation: aborts the upstream request (the SDK sends `notifications/cancelled`). */
  readonly signal?: AbortSignal;
  /** The upstream's progress notifications, for the client that asked for them. */
  readonly onProgress?: (progress: Progress) => void;
}

/** What a server answered to `tools/call`: the tool's own result, `isError` included (that is an answer). */
export interface McpToolCallResult {
  /** The result's `content` blocks, as the server sent them. */
  readonly content: unknown[];
  readonly structuredContent?: unknown;
  readonly isError: boolean;
  /** Time until the answer, connect included. */
  readonly latencyMs: number;
}

/**
 * Calls one tool. Time until the answer includes the connect when the pool had no session. A result with `isError` is the tool's answer and is returned.
 * @throws McpInspectionError when the server could not be reached or did not answer properly (outcome +
 * message): a failure of the server, not of the tool.
 */
export async function callTool(
  pool: UpstreamPool,
  target: McpTarget,
  call: { readonly name: string; readonly arguments: Record<string, unknown> },
  options: UpstreamRequestOptions,
): Promise<McpToolCallResult> {
  const startedAt = performance.now();
  const attributes = {
    [ATTR.MCP_METHOD_NAME]: 'tools/call',
    [ATTR.GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR.GEN_AI_TOOL_NAME]: call.name,
  };
  return inMcpSpan(`tools/call ${call.name}`, target, attributes, async (span) => {
    const answer = await pool.run(target, options.timeoutMs, async (session) => {
      const result = await session.client.callTool(
        { name: call.name, arguments: call.arguments, ...traceMeta() },
        forwardingOptions(session, options),
      );
      return {
        content: Array.isArray(result.content) ? result.content : [],
        ...(result.structuredContent !== undefined && { structuredContent: result.structuredContent }),
        isError: result.isError === true,
        latencyMs: elapsedSince(startedAt),
      };
    });
    // The tool's own failure is an answer for the gateway, and a failed call for whoever reads the trace.
    if (answer.isError) markFailed(span, 'tool_error');
    return answer;
  });
}

/** Reads one resource, as the server answers it. @throws McpInspectionError */
export function readResource(
  pool: UpstreamPool,
  target: McpTarget,
  uri: string,
  options: UpstreamRequestOptions,
): Promise<ReadResourceResult> {
  const attributes = { [ATTR.MCP_METHOD_NAME]: 'resources/read', [ATTR.MCP_RESOURCE_URI]: uri };
  return inMcpSpan('resources/read', target, attributes, () =>
    pool.run(target, options.timeoutMs, (session) =>
      session.client.readResource({ uri, ...traceMeta() }, forwardingOptions(session, options)),
    ),
  );
}

/** Gets one prompt with its arguments, as the server answers it. @throws McpInspectionError */
export function getPrompt(
  pool: UpstreamPool,
  target: McpTarget,
  prompt: { readonly name: string; readonly arguments: Record<string, string> },
  options: UpstreamRequestOptions,
): Promise<GetPromptResult> {
  const attributes = { [ATTR.MCP_METHOD_NAME]: 'prompts/get', [ATTR.GEN_AI_PROMPT_NAME]: prompt.name };
  return inMcpSpan(`prompts/get ${prompt.name}`, target, attributes, () =>
    pool.run(target, options.timeoutMs, (session) =>
      session.client.getPrompt({ ...prompt, ...traceMeta() }, forwardingOptions(session, options)),
    ),
  );
}

function forwardingOptions(session: McpSession, options: UpstreamRequestOptions): RequestOptions {
  const bounded = session.requestOptions();
  const signal =
    options.signal === undefined || bounded.signal === undefined
      ? (bounded.signal ?? options.signal)
      : AbortSignal.any([bounded.signal, options.signal]);
  return {
    ...bounded,
    ...(signal !== undefined && { signal }),
    ...(options.onProgress !== undefined && { onprogress: options.onProgress }),
  };
}
