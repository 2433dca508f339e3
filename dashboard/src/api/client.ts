import { createClient as createWebSocketClient, type Client as WebSocketClient } from 'graphql-ws';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { graphqlWebSocketUrl } from './session';

export type LiveState = 'connecting' | 'connected' | 'reconnecting';

export interface ApiClient {
  /** Queries over HTTP, subscriptions over graphql-ws; both carry the credentials. */
  readonly urql: Client;
  /** Calls `listener` with each change of the websocket's state; returns the unsubscribe. */
  onLiveState(listener: (state: LiveState) => void): () => void;
  close(): void;
}

/**
 * A client of our own GraphQL API for one signed-in session; `authorization` is read at every request and every
 * (re)connection, so a renewed access token is sent as soon as it exists. The API closes a socket when the token
 * it was opened with expires, and the socket reconnects with the current one. Live data comes over graphql-ws,
 * which reconnects by itself; events missed while it was away are not replayed, so pages refetch when it is back
 * (`connected` after `reconnecting`).
 */
export function createApiClient(authorization: () => string): ApiClient {
  const listeners = new Set<(state: LiveState) => void>();
  let state: LiveState = 'connecting';
  const setState = (next: LiveState) => {
    state = next;
    for (const listener of listeners) listener(next);
  };
  const webSocket: WebSocketClient = createWebSocketClient({
    url: graphqlWebSocketUrl(),
    connectionParams: () => ({ authorization: authorization() }),
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Capped exponential back-off with jitter: an API restart is ridden out without hammering it.
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random())),
      ),
    shouldRetry: () => true,
    on: {
      connected: () => setState('connected'),
      closed: () => setState(state === 'connecting' ? 'connecting' : 'reconnecting'),
    },
  });
  const urql = new Client({
    url: '/graphql',
    // POST with a JSON body: the API's CSRF protection refuses GET queries without a preflight header.
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization: authorization() } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: webSocket.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  return {
    urql,
    onLiveState(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
    close: () => void webSocket.dispose(),
  };
}
