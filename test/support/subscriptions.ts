import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from './app.js';

/** A graphql-ws subscription that collects what it receives. */
export function subscribe(app: TestApp, key: string, query: string, variables: Record<string, unknown>) {
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
