import {
  Client,
  type FetchLike,
  type RequestOptions,
  SSEClientTransport,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Deadline } from './deadline.js';
import { classifyFailure, networkErrorDetail, type WireTrace } from './probe-outcome.js';

/** Where an MCP server listens and what to send it. */
export interface McpTarget {
  readonly endpointUrl: string;
  readonly transport: 'streamable_http' | 'sse';
  /** Sent on every HTTP request of the session (e.g. `Authorization`). */
  readonly headers: Record<string, string> | null;
}

/** A connected client whose every request is bounded by one overall deadline. */
export interface McpSession {
  readonly client: Client;
  /** Options for one SDK request: its signal and the time left before the deadline. */
  requestOptions(): RequestOptions;
}

const CLIENT_INFO = { name: 'mcp-registry-gateway', version: '0.1.0' };
// The SDK's auto-walk of a paged list throws past this many pages instead of following a server whose
// cursors never converge until the deadline (which would look like a timeout).
const MAX_LIST_PAGES = 1000;

/**
 * Connects to the target, runs `work`, and closes the session whatever happens: a Streamable HTTP session
 * gets its DELETE, then the client and transport close. Everything, connect and close included, happens
 * within `timeoutMs`. Failures are thrown as a classified `McpInspectionError`.
 */
export async function withMcpSession<T>(
  target: McpTarget,
  timeoutMs: number,
  work: (session: McpSession) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(timeoutMs);
  const trace: WireTrace = {};
  let transport: StreamableHTTPClientTransport | SSEClientTransport | undefined;
  const client = new Client(CLIENT_INFO, {
    // 'auto' probes with the 2026-07-28 `server/discover` and falls back to the 2025 `initialize`
    // handshake. Legacy HTTP+SSE predates 2026-07-28, so SSE servers get `initialize` directly: some old
    // SSE servers never answer a request sent before `initialize`, which 'auto' would report as a timeout.
    versionNegotiation: { mode: target.transport === 'sse' ? 'legacy' : 'auto' },
    listMaxPages: MAX_LIST_PAGES,
  });
  const session: McpSession = {
    client,
    requestOptions: () => ({ signal: deadline.signal, timeout: deadline.remainingMs() }),
  };
  try {
    const url = new URL(target.endpointUrl);
    const options = {
      requestInit: { headers: target.headers ?? {} },
      fetch: tracedFetch(trace, deadline.signal),
    };
    transport =
      target.transport === 'sse'
        ? new SSEClientTransport(url, options)
        : new StreamableHTTPClientTransport(url, options);
    const connected = transport;
    // The race also bounds the steps the SDK gives no timeout, like opening the SSE stream.
    return await deadline.race(async () => {
      await client.connect(connected, session.requestOptions());
      return work(session);
    });
  } catch (error) {
    throw classifyFailure(error, trace, deadline);
  } finally {
    await close(client, transport, deadline);
  }
}

// `Client.close()` does not end a Streamable HTTP session; `terminateSession()` sends the DELETE (2025
// era only: it is a no-op without a session id, as on 2026-07-28 and stateless servers).
async function close(
  client: Client,
  transport: StreamableHTTPClientTransport | SSEClientTransport | undefined,
  deadline: Deadline,
): Promise<void> {
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
    await deadline.race(() => transport.terminateSession()).catch(() => {});
  }
  await client.close().catch(() => {});
  // A connect that failed can leave the transport started (an SSE stream retrying), so close it as well.
  await transport?.close().catch(() => {});
}

/** fetch bounded by the deadline, recording what the HTTP layer saw for classification. */
function tracedFetch(trace: WireTrace, deadline: AbortSignal): FetchLike {
  return async (url, init) => {
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const response = await fetch(url, { ...init, signal });
      if (!response.ok) trace.httpStatus = response.status;
      return response;
    } catch (error) {
      if (!signal.aborted) trace.networkError = networkErrorDetail(error);
      throw error;
    }
  };
}
