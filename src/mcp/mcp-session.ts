import {
  Client,
  type FetchLike,
  type RequestOptions,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type VersionNegotiationOptions,
} from '@modelcontextprotocol/client';
import { SERVICE_VERSION, withTraceHeaders } from '../observability/spans.js';
import { Deadline } from './deadline.js';
import { classifyFailure, networkErrorDetail, type WireTrace, withoutSecrets } from './probe-outcome.js';
import { StdioChild } from './stdio-child.js';

/** Where an MCP server listens (or, for STDIO, the command that starts it) and what to send it. */
export interface McpTarget {
  /** An http(s) URL, or for STDIO the command line (split into words, never run by a shell). */
  readonly endpointUrl: string;
  readonly transport: 'streamable_http' | 'sse' | 'stdio';
  /** Sent on every HTTP request of the session (e.g. `Authorization`); not used for STDIO. */
  readonly headers: Record<string, string> | null;
  /** The registered server this is, when it is one (named on the exchange's trace span). */
  readonly serverId?: string;
}

export interface McpClientOptions {
  /**
   * Budget for the whole exchange, connect (for STDIO: starting the process) and close included; a STDIO
   * child still running at the deadline takes up to a second more to kill.
   */
  readonly timeoutMs: number;
}

/** A connected client whose every request is bounded by one overall deadline. */
export interface McpSession {
  readonly client: Client;
  /** Options for one SDK request: its signal and the time left before the deadline. */
  requestOptions(): RequestOptions;
}

export const CLIENT_INFO = { name: 'mcp-registry-gateway', version: SERVICE_VERSION };
// The SDK's auto-walk of a paged list throws past this many pages instead of following a server whose
// cursors never converge until the deadline (which would look like a timeout).
const MAX_LIST_PAGES = 1000;

/**
 * Connects to the target, runs `work`, and closes the session whatever happens: a Streamable HTTP session
 * gets its DELETE, then the client and transport close; a STDIO server's process is ended. Everything,
 * spawn and connect included, happens within `timeoutMs` (closing a STDIO child that ignores its closed
 * stdin takes a moment more). Failures are thrown as a classified `McpInspectionError`.
 */
export async function withMcpSession<T>(
  target: McpTarget,
  timeoutMs: number,
  work: (session: McpSession) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(timeoutMs);
  const trace: WireTrace = {};
  let connection: StdioChild | HttpTransport | undefined;
  let connecting: Promise<void> | undefined;
  const client = new Client(CLIENT_INFO, {
    versionNegotiation: versionNegotiation(target.transport, timeoutMs),
    listMaxPages: MAX_LIST_PAGES,
  });
  const session: McpSession = {
    client,
    requestOptions: () => ({ signal: deadline.signal, timeout: deadline.remainingMs() }),
  };
  try {
    connection =
      target.transport === 'stdio'
        ? new StdioChild(target.endpointUrl, trace)
        : httpTransport(target, tracedFetch(trace, deadline.signal));
    const transport = connection instanceof StdioChild ? connection.transport : connection;
    // The race also bounds the steps the SDK gives no timeout, like opening the SSE stream.
    return await deadline.race(async () => {
      connecting = client.connect(transport, session.requestOptions());
      await connecting;
      return work(session);
    });
  } catch (error) {
    throw withoutSecrets(classifyFailure(error, trace, deadline), target.headers);
  } finally {
    if (connection instanceof StdioChild) await connection.close(client, connecting, deadline);
    else await closeHttpSession(client, connection, deadline);
  }
}

export type HttpTransport = StreamableHTTPClientTransport | SSEClientTransport;

/** A target reached over HTTP: Streamable HTTP or legacy HTTP+SSE. */
export type HttpTarget = McpTarget & { readonly transport: 'streamable_http' | 'sse' };

// The Streamable HTTP transport reopens a dropped stream on its own; a watch session leaves that to its
// owner instead (a new session, with backoff), so the SDK is told never to retry.
const NO_RECONNECTION = {
  initialReconnectionDelay: 1000,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 0,
};

/** The SDK transport for an HTTP target, sending the stored headers with every request through `fetch`. */
export function httpTransport(
  target: McpTarget,
  fetch: FetchLike,
  options: { readonly reconnect: boolean } = { reconnect: true },
): HttpTransport {
  const url = new URL(target.endpointUrl);
  const common = { requestInit: { headers: target.headers ?? {} }, fetch };
  return target.transport === 'sse'
    ? new SSEClientTransport(url, common)
    : new StreamableHTTPClientTransport(url, {
        ...common,
        ...(!options.reconnect && { reconnectionOptions: NO_RECONNECTION }),
      });
}

/**
 * 'auto' probes with the 2026-07-28 `server/discover` and falls back to the 2025 `initialize` handshake.
 * Legacy HTTP+SSE predates 2026-07-28, so SSE servers get `initialize` directly: some old SSE servers never
 * answer a request sent before `initialize`, which 'auto' would report as a timeout. On STDIO the SDK
 * probes on a short-lived sibling process and takes silence for a 2025 server: a third of the budget for
 * that leaves the session's own process time to start and answer `initialize`.
 */
export function versionNegotiation(
  transport: McpTarget['transport'],
  timeoutMs: number,
): VersionNegotiationOptions {
  if (transport === 'sse') return { mode: 'legacy' };
  if (transport === 'stdio') return { mode: 'auto', probe: { timeoutMs: Math.ceil(timeoutMs / 3) } };
  return { mode: 'auto' };
}

// `Client.close()` does not end a Streamable HTTP session; `terminateSession()` sends the DELETE (2025
// era only: it is a no-op without a session id, as on 2026-07-28 and stateless servers).
export async function closeHttpSession(
  client: Client,
  transport: HttpTransport | undefined,
  deadline: Deadline,
): Promise<void> {
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
    await deadline.race(() => transport.terminateSession()).catch(() => {});
  }
  await client.close().catch(() => {});
  // A connect that failed can leave the transport started (an SSE stream retrying), so close it as well.
  await transport?.close().catch(() => {});
}

/**
 * fetch bounded by the deadline, recording what the HTTP layer saw for classification; each request carries the
 * active span's W3C `traceparent` (mcp-tracing.ts).
 */
export function tracedFetch(trace: WireTrace, deadline: AbortSignal): FetchLike {
  return async (url, init) => {
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const response = await fetch(url, { ...withTraceHeaders(init), signal });
      if (!response.ok) trace.httpStatus = response.status;
      return response;
    } catch (error) {
      if (!signal.aborted) trace.networkError = networkErrorDetail(error);
      throw error;
    }
  };
}
