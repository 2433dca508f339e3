import { type Inspection, negotiatedVersion, readInspection } from './inspection.js';
import { type McpTarget, withMcpSession } from './mcp-session.js';
import { McpInspectionError, type McpProbeOutcome } from './probe-outcome.js';

export type {
  InspectedPrompt,
  InspectedPromptArgument,
  InspectedResource,
  InspectedResourceTemplate,
  InspectedTool,
  Inspection,
} from './inspection.js';
export type { HttpTarget, McpTarget } from './mcp-session.js';
export { type McpFailureOutcome, McpInspectionError, type McpProbeOutcome } from './probe-outcome.js';
export {
  openWatchSession,
  WATCHED_LISTS,
  type WatchedList,
  type WatchHandlers,
  type WatchSession,
} from './watch-session.js';

export interface McpClientOptions {
  /**
   * Budget for the whole exchange, connect (for STDIO: starting the process) and close included; a STDIO
   * child still running at the deadline takes up to a second more to kill.
   */
  readonly timeoutMs: number;
}

export interface McpProbeResult {
  readonly outcome: McpProbeOutcome;
  /** Time until the outcome was known (the answer, the failure or the deadline). */
  readonly latencyMs: number;
  readonly protocolVersion: string | null;
  readonly error?: string;
}

/**
 * Connects as an MCP client (2026-07-28 first, then the 2025 handshake) and reads the server's identity,
 * capabilities and every page of its tools, resources, resource templates and prompts.
 * @throws McpInspectionError for any problem of the server (outcome + message).
 */
export async function inspectServer(target: McpTarget, options: McpClientOptions): Promise<Inspection> {
  const startedAt = performance.now();
  return withMcpSession(target, options.timeoutMs, async (session) => ({
    ...(await readInspection(session)),
    latencyMs: elapsedSince(startedAt),
  }));
}

/**
 * The lightest real MCP exchange: what the client does on connect (`server/discover` for 2026-07-28,
 * `initialize` before), then `ping` where the era has it. Never throws for problems of the server.
 */
export async function probeServer(target: McpTarget, options: McpClientOptions): Promise<McpProbeResult> {
  const startedAt = performance.now();
  try {
    return await withMcpSession(target, options.timeoutMs, async ({ client, requestOptions }) => {
      // 2026-07-28 has no ping: the connect-time server/discover already was the round trip.
      if (client.getProtocolEra() === 'legacy') await client.ping(requestOptions());
      return {
        outcome: 'ok',
        latencyMs: elapsedSince(startedAt),
        protocolVersion: negotiatedVersion(client),
      };
    });
  } catch (error) {
    if (!(error instanceof McpInspectionError)) throw error;
    return {
      outcome: error.outcome,
      latencyMs: elapsedSince(startedAt),
      protocolVersion: null,
      error: error.message,
    };
  }
}

function elapsedSince(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
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
 * Connects, calls one tool and closes the session, all within `timeoutMs`. A result with `isError` is the
 * tool's answer and is returned.
 * @throws McpInspectionError when the server could not be reached or did not answer properly (outcome +
 * message): a failure of the server, not of the tool.
 */
export async function callTool(
  target: McpTarget,
  call: { readonly name: string; readonly arguments: Record<string, unknown> },
  options: McpClientOptions,
): Promise<McpToolCallResult> {
  const startedAt = performance.now();
  return withMcpSession(target, options.timeoutMs, async ({ client, requestOptions }) => {
    const result = await client.callTool({ name: call.name, arguments: call.arguments }, requestOptions());
    return {
      content: Array.isArray(result.content) ? result.content : [],
      ...(result.structuredContent !== undefined && { structuredContent: result.structuredContent }),
      isError: result.isError === true,
      latencyMs: elapsedSince(startedAt),
    };
  });
}
