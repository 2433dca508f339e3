import { Client, type FetchLike, type ListChangedOptions } from '@modelcontextprotocol/client';
import { withTraceHeaders } from '../observability/spans.js';
import { Deadline } from './deadline.js';
import {
  CLIENT_INFO,
  closeHttpSession,
  type HttpTarget,
  httpTransport,
  versionNegotiation,
} from './mcp-session.js';
import { inMcpSpan } from './mcp-tracing.js';
import {
  classifyFailure,
  McpInspectionError,
  networkErrorDetail,
  type WireTrace,
  withoutSecrets,
} from './probe-outcome.js';

/** The lists whose changes a server can announce (`notifications/<list>/list_changed`). */
export const WATCHED_LISTS = ['tools', 'resources', 'prompts'] as const;
export type WatchedList = (typeof WATCHED_LISTS)[number];

export interface WatchHandlers {
  /** The server said `list` changed. Bursts of notifications for one list arrive as one call. */
  onChanged(list: WatchedList): void;
  /** The open session ended without `close()`: the stream dropped or the server ended it. Called once. */
  onLost(reason: string): void;
}

/** An open session on which a server announces changes of its lists. */
export interface WatchSession {
  readonly protocolVersion: string | null;
  /** The lists the server announces changes of on this session. */
  readonly lists: readonly WatchedList[];
  /** Ends the session (Streamable HTTP sessions get their DELETE); safe to call twice. */
  close(): Promise<void>;
}

// Notifications of one list closer together than this make one change.
const CHANGE_DEBOUNCE_MS = 50;

/**
 * Opens a long-lived session to an HTTP server that announces `listChanged`, and reports every change it
 * announces. 2025-era servers send unsolicited notifications on the session's standing stream (the GET SSE
 * stream of Streamable HTTP, the event stream of legacy SSE); 2026-07-28 servers on a `subscriptions/listen`
 * stream the client opens. Connecting (standing stream or subscription included) is bounded by `timeoutMs`,
 * and a failure is thrown as a classified `McpInspectionError` without the target's credentials. Once open,
 * the session stays open until `close()` or until it is lost (`onLost`); it never reconnects on its own.
 */
export function openWatchSession(
  target: HttpTarget,
  timeoutMs: number,
  handlers: WatchHandlers,
): Promise<WatchSession> {
  // The span covers opening the session; it stays open for hours after.
  return inMcpSpan('mcp.watch', target, {}, () => openSession(target, timeoutMs, handlers));
}

async function openSession(
  target: HttpTarget,
  timeoutMs: number,
  handlers: WatchHandlers,
): Promise<WatchSession> {
  const deadline = new Deadline(timeoutMs);
  const trace: WireTrace = {};
  const stopped = new AbortController();
  let state: 'connecting' | 'open' | 'closed' = 'connecting';
  const standingStream = deferred();
  let lastClientError: Error | undefined;

  const ended = (reason: string): void => {
    if (state === 'connecting') standingStream.reject(new Error(reason));
    else if (state === 'open') {
      state = 'closed';
      handlers.onLost(reason);
    }
  };

  const onList = <T>(list: WatchedList): ListChangedOptions<T> => ({
    autoRefresh: false,
    debounceMs: CHANGE_DEBOUNCE_MS,
    onChanged: () => {
      if (state !== 'closed') handlers.onChanged(list);
    },
  });
  const client = new Client(CLIENT_INFO, {
    versionNegotiation: versionNegotiation(target.transport, timeoutMs),
    listChanged: { tools: onList('tools'), resources: onList('resources'), prompts: onList('prompts') },
  });
  client.onerror = (error) => {
    lastClientError = error;
  };
  const transport = httpTransport(target, watchFetch(trace, stopped.signal, standingStream.resolve, ended), {
    reconnect: false,
  });

  const close = async (): Promise<void> => {
    state = 'closed';
    const closing = new Deadline(timeoutMs);
    await closing.race(async () => client.autoOpenedSubscription?.close()).catch(() => {});
    await closeHttpSession(client, transport, closing);
    stopped.abort();
  };

  try {
    const lists = await deadline.race(async () => {
      await client.connect(transport, { signal: deadline.signal, timeout: deadline.remainingMs() });
      const capabilities = client.getServerCapabilities();
      const lists = WATCHED_LISTS.filter((list) => capabilities?.[list]?.listChanged === true);
      if (lists.length === 0) {
        throw new McpInspectionError('protocol_error', 'the server no longer announces list changes');
      }
      if (client.getProtocolEra() === 'legacy') {
        // The SDK opens the standing stream after the handshake without waiting for it; so do we, here.
        await standingStream.promise;
      } else {
        const subscription = client.autoOpenedSubscription;
        if (subscription === undefined) {
          const why = lastClientError ? `: ${lastClientError.message}` : '';
          throw new McpInspectionError('protocol_error', `the server refused subscriptions/listen${why}`);
        }
        void subscription.closed.then((how) => {
          if (how !== 'local') ended(`the server ended the subscription (${how})`);
        });
      }
      return lists;
    });
    state = 'open';
    client.onclose = () => ended('the connection closed');
    return { protocolVersion: client.getNegotiatedProtocolVersion() ?? null, lists, close };
  } catch (error) {
    await close();
    throw withoutSecrets(classifyFailure(error, trace, deadline), target.headers);
  }
}

/**
 * fetch for a watch session: everything is aborted when the session stops; every request records what the
 * HTTP layer saw (for classification); a GET (the standing event stream) reports when it opened, and when
 * it could not open or ended.
 */
function watchFetch(
  trace: WireTrace,
  stopped: AbortSignal,
  opened: () => void,
  ended: (reason: string) => void,
): FetchLike {
  return async (url, init) => {
    const signal = init?.signal ? AbortSignal.any([init.signal, stopped]) : stopped;
    const standing = (init?.method ?? 'GET').toUpperCase() === 'GET';
    let response: Response;
    try {
      response = await fetch(url, { ...withTraceHeaders(init), signal });
    } catch (error) {
      if (!signal.aborted) {
        trace.networkError = networkErrorDetail(error);
        if (standing) ended(`the event stream could not be opened: ${trace.networkError}`);
      }
      throw error;
    }
    if (!response.ok) trace.httpStatus = response.status;
    if (!standing) return response;
    if (!response.ok || response.body === null) {
      ended(`the server did not open an event stream (HTTP ${response.status})`);
      return response;
    }
    opened();
    return observedUntilEnd(response, (error) =>
      ended(
        error === undefined
          ? 'the server closed the event stream'
          : `the event stream failed: ${networkErrorDetail(error)}`,
      ),
    );
  };
}

/** The same response, whose body calls `onEnd` once when it ends or fails. */
function observedUntilEnd(response: Response, onEnd: (error: unknown) => void): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          onEnd(undefined);
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        onEnd(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Rejected while nobody waits (a stream that fails before the handshake ends) must not be unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
