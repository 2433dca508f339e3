import type {
  GetPromptResult,
  Progress,
  ReadResourceResult,
  RequestOptions,
} from '@modelcontextprotocol/client';
import { elapsedSince } from './deadline.js';
import type { McpClientOptions, McpSession, McpTarget } from './mcp-session.js';
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
  return pool.run(target, options.timeoutMs, async (session) => {
    const result = await session.client.callTool(
      { name: call.name, arguments: call.arguments },
      forwardingOptions(session, options),
    );
    return {
      content: Array.isArray(result.content) ? result.content : [],
      ...(result.structuredContent !== undefined && { structuredContent: result.structuredContent }),
      isError: result.isError === true,
      latencyMs: elapsedSince(startedAt),
    };
  });
}

/** Reads one resource, as the server answers it. @throws McpInspectionError */
export function readResource(
  pool: UpstreamPool,
  target: McpTarget,
  uri: string,
  options: UpstreamRequestOptions,
): Promise<ReadResourceResult> {
  return pool.run(target, options.timeoutMs, (session) =>
    session.client.readResource({ uri }, forwardingOptions(session, options)),
  );
}

/** Gets one prompt with its arguments, as the server answers it. @throws McpInspectionError */
export function getPrompt(
  pool: UpstreamPool,
  target: McpTarget,
  prompt: { readonly name: string; readonly arguments: Record<string, string> },
  options: UpstreamRequestOptions,
): Promise<GetPromptResult> {
  return pool.run(target, options.timeoutMs, (session) =>
    session.client.getPrompt(prompt, forwardingOptions(session, options)),
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
