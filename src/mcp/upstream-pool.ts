import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/client';
import { Deadline } from './deadline.js';
import {
  CLIENT_INFO,
  closeHttpSession,
  type HttpTarget,
  type HttpTransport,
  httpTransport,
  type McpSession,
  type McpTarget,
  tracedFetch,
  versionNegotiation,
  withMcpSession,
} from './mcp-session.js';
import { classifyFailure, type WireTrace, withoutSecrets } from './probe-outcome.js';

const CLOSE_TIMEOUT_MS = 5_000;
/**
 * What a server answers a request on a session it does not know: 404 by the specification, 400 from servers
 * written after the SDK's examples. Either way the request was refused before it reached a tool.
 */
const SESSION_REFUSED = new Set([400, 404]);

export interface UpstreamPoolSettings {
  /** A session unused this long is closed (a 2025 session gets its DELETE); 0 turns pooling off. */
  readonly idleMs: number;
  /** Sessions held at most; past it, a request gets a session of its own, closed after it. */
  readonly maxSessions: number;
}

/** One connected client to one upstream, shared by the requests that reach that upstream meanwhile. */
interface PooledSession {
  readonly key: string;
  readonly client: Client;
  readonly transport: HttpTransport;
  /** What the HTTP layer saw, for classifying a failure (reset when the session is taken up again). */
  readonly trace: WireTrace;
  /** Aborts the session's own HTTP requests when it is closed. */
  readonly lifetime: AbortController;
  /** Settles when connected (the 2026-07-28 `server/discover`, or the 2025 `initialize` handshake). */
  readonly ready: Promise<void>;
  inUse: number;
  idleTimer: NodeJS.Timeout | null;
  /** Out of the pool: closed once the requests still on it are done. */
  dropped: boolean;
}

/**
 * Connected sessions to upstream servers, reused by the requests the gateway forwards (tool calls, resource
 * reads, prompts), so a call does not pay a handshake each time: a 2025-era server keeps one `Mcp-Session-Id`
 * session per upstream and stored headers; a 2026-07-28 server keeps its discovered client. A session is
 * closed after `idleMs` unused, and dropped at its first failure: the next request connects afresh. A request
 * whose pooled session the upstream no longer knows (HTTP 404 or 400, as after its restart) is sent once more
 * on a new session; it never reached the server's tool. STDIO servers are not pooled (a child process each time).
 */
export class UpstreamPool {
  private readonly sessions = new Map<string, PooledSession>();

  constructor(private readonly settings: UpstreamPoolSettings) {}

  /** Runs `work` on a session to `target` within `timeoutMs` (connect included, when it has to). */
  async run<T>(target: McpTarget, timeoutMs: number, work: (session: McpSession) => Promise<T>): Promise<T> {
    if (target.transport === 'stdio' || this.settings.idleMs === 0) {
      return withMcpSession(target, timeoutMs, work);
    }
    const httpTarget = target as HttpTarget;
    const key = keyOf(httpTarget);
    const deadline = new Deadline(timeoutMs);
    const pooled = this.sessions.get(key);
    if (pooled === undefined && this.sessions.size >= this.settings.maxSessions) {
      return withMcpSession(target, timeoutMs, work);
    }
    try {
      return await this.runOn(pooled ?? this.open(key, httpTarget, timeoutMs), httpTarget, deadline, work);
    } catch (error) {
      const retry =
        pooled !== undefined && SESSION_REFUSED.has(pooled.trace.httpStatus ?? 0) && !deadline.signal.aborted;
      if (!retry) throw error;
      return this.runOn(this.open(key, httpTarget, timeoutMs), httpTarget, deadline, work);
    }
  }

  /** Closes every session (2025 sessions get their DELETE). */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of all) {
      session.dropped = true;
      if (session.idleTimer !== null) clearTimeout(session.idleTimer);
    }
    await Promise.allSettled(all.map((session) => closeSession(session)));
  }

  private async runOn<T>(
    session: PooledSession,
    target: HttpTarget,
    deadline: Deadline,
    work: (session: McpSession) => Promise<T>,
  ): Promise<T> {
    if (session.inUse === 0) {
      delete session.trace.httpStatus;
      delete session.trace.networkError;
    }
    session.inUse += 1;
    if (session.idleTimer !== null) clearTimeout(session.idleTimer);
    session.idleTimer = null;
    try {
      await deadline.race(() => session.ready);
      return await deadline.race(() =>
        work({
          client: session.client,
          requestOptions: () => ({ signal: deadline.signal, timeout: deadline.remainingMs() }),
        }),
      );
    } catch (error) {
      this.drop(session);
      throw withoutSecrets(classifyFailure(error, session.trace, deadline), target.headers);
    } finally {
      session.inUse -= 1;
      if (session.inUse === 0 && session.dropped) void closeSession(session);
      else if (session.inUse === 0) {
        session.idleTimer = setTimeout(() => this.drop(session), this.settings.idleMs);
        session.idleTimer.unref();
      }
    }
  }

  private open(key: string, target: HttpTarget, timeoutMs: number): PooledSession {
    const trace: WireTrace = {};
    const lifetime = new AbortController();
    const transport = httpTransport(target, tracedFetch(trace, lifetime.signal), { reconnect: false });
    const client = new Client(CLIENT_INFO, {
      versionNegotiation: versionNegotiation(target.transport, timeoutMs),
    });
    const ready = client.connect(transport);
    // Awaited by each request with its own deadline; a failed connect is reported there.
    ready.catch(() => {});
    const session: PooledSession = {
      key,
      client,
      transport,
      trace,
      lifetime,
      ready,
      inUse: 0,
      idleTimer: null,
      dropped: false,
    };
    this.sessions.set(key, session);
    return session;
  }

  /** Takes the session out of the pool and closes it once no request uses it any more. */
  private drop(session: PooledSession): void {
    if (session.dropped) return;
    session.dropped = true;
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    if (session.idleTimer !== null) clearTimeout(session.idleTimer);
    session.idleTimer = null;
    if (session.inUse === 0) void closeSession(session);
  }
}

async function closeSession(session: PooledSession): Promise<void> {
  await closeHttpSession(session.client, session.transport, new Deadline(CLOSE_TIMEOUT_MS));
  session.lifetime.abort();
}

/** One session per upstream and set of stored headers; the key holds a hash, never a header's value. */
function keyOf(target: HttpTarget): string {
  const headers = Object.entries(target.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256').update(JSON.stringify(headers)).digest('base64url');
  return `${target.transport} ${target.endpointUrl} ${digest}`;
}
