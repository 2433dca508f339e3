import { elapsedSince } from './deadline.js';
import { type Inspection, negotiatedVersion, readInspection } from './inspection.js';
import { type McpClientOptions, type McpTarget, withMcpSession } from './mcp-session.js';
import { inMcpSpan, markFailed } from './mcp-tracing.js';
import { McpInspectionError, type McpProbeOutcome } from './probe-outcome.js';

export type { Progress } from '@modelcontextprotocol/client';
export type {
  InspectedPrompt,
  InspectedPromptArgument,
  InspectedResource,
  InspectedResourceTemplate,
  InspectedTool,
  Inspection,
} from './inspection.js';
export type { HttpTarget, McpClientOptions, McpTarget } from './mcp-session.js';
export { type McpFailureOutcome, McpInspectionError, type McpProbeOutcome } from './probe-outcome.js';
export { UpstreamPool, type UpstreamPoolSettings } from './upstream-pool.js';
export {
  callTool,
  getPrompt,
  type McpToolCallResult,
  readResource,
  type UpstreamRequestOptions,
} from './upstream-requests.js';
export {
  openWatchSession,
  WATCHED_LISTS,
  type WatchedList,
  type WatchHandlers,
  type WatchSession,
} from './watch-session.js';

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
  return inMcpSpan('mcp.inspect', target, {}, () =>
    withMcpSession(target, options.timeoutMs, async (session) => ({
      ...(await readInspection(session)),
      latencyMs: elapsedSince(startedAt),
    })),
  );
}

/**
 * The lightest real MCP exchange: what the client does on connect (`server/discover` for 2026-07-28,
 * `initialize` before), then `ping` where the era has it. Never throws for problems of the server.
 */
export function probeServer(target: McpTarget, options: McpClientOptions): Promise<McpProbeResult> {
  return inMcpSpan('mcp.probe', target, {}, async (span) => {
    const result = await probe(target, options);
    if (result.outcome !== 'ok') markFailed(span, result.outcome, result.error);
    return result;
  });
}

async function probe(target: McpTarget, options: McpClientOptions): Promise<McpProbeResult> {
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
