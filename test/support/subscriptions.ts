import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from './app.js';

/** A graphql-ws subscription that collects what it receives. */
export function subscribe(
  app: Pick<TestApp, 'url'>,
  key: string,
  query: string,
  variables: Record<string, unknown>,
) {
  const client: Client = createClient({
    url: app.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  const events: Record<string, unknown>[] = [];
  const errors: unknown[] = [];
  const waiters: (() => void)[] = [];
  client.subscribe(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) events.push(value.data);
        for (const wake of waiters.splice(0)) wake();
      },
      error: (error) => {
        errors.push(error);
        for (const wake of waiters.splice(0)) wake();
      },
      complete: () => {},
    },
  );
  return {
    events,
    errors,
    /** Waits until `count` events (or an error) arrived, at most `timeoutMs`. */
    async until(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count && errors.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    /** Waits until `condition` holds for the events so far (or an error arrived), at most `timeoutMs`. */
    async waitFor(
      condition: (events: Record<string, unknown>[]) => boolean,
      timeoutMs = 15_000,
    ): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition(events) && errors.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => client.dispose(),
  };
}

export interface RawSocket {
  /** Whether the server acknowledged connection_init (false when it closed the socket instead). */
  readonly acknowledged: Promise<boolean>;
  /** How the socket closed, whoever closed it. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Runs one operation to its end and returns its last result, or `{ errors }` for an error message. */
  execute(query: string, variables?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Sends a message as it is (for malformed ones). */
  send(message: string): void;
  close(): void;
}

/**
 * A graphql-transport-ws socket spoken by hand, for tests about the socket itself: acknowledgement, close
 * codes, pings. `options.autoPong: false` makes a client that never answers the server's pings.
 */
export function openSocket(
  app: TestApp,
  key: string | null,
  options: { autoPong?: boolean; headers?: Record<string, string> } = {},
): RawSocket {
  const socket = new WebSocket(app.url.replace('http', 'ws'), 'graphql-transport-ws', {
    autoPong: options.autoPong ?? true,
    headers: options.headers,
  });
  // Errors (such as closing before the socket opened) end in 'close' too, which is what tests look at.
  socket.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const acknowledged = new Promise<boolean>((resolve) => {
    socket.once('open', () =>
      socket.send(
        JSON.stringify({
          type: 'connection_init',
          payload: key === null ? {} : { authorization: `Bearer ${key}` },
        }),
      ),
    );
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  let nextId = 0;
  return {
    acknowledged,
    closed,
    async execute(query, variables) {
      if (!(await acknowledged)) throw new Error('the server did not acknowledge the connection');
      const id = String(++nextId);
      return new Promise((resolve, reject) => {
        let last: Record<string, unknown> = {};
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(String(data)) as { id?: string; type: string; payload?: unknown };
          if (message.id !== id) return;
          if (message.type === 'next') last = message.payload as Record<string, unknown>;
          if (message.type === 'error') last = { errors: message.payload };
          if (message.type === 'next') return;
          socket.off('message', onMessage);
          resolve(last);
        };
        socket.on('message', onMessage);
        void closed.then(() => reject(new Error('socket closed before the operation ended')));
        socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      });
    },
    send: (message) => socket.send(message),
    close: () => socket.close(1000),
  };
}
