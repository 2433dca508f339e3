import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

function connect(authorization: string | undefined) {
  const closes: number[] = [];
  const client = createClient({
    url: app.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  return { client, closes };
}

function execute(client: ReturnType<typeof createClient>, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    client.subscribe(
      { query },
      { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
    );
  });
}

describe('graphql-ws on /graphql', () => {
  it('authenticates in connection_init and runs operations with the key as viewer', async () => {
    const { client } = connect(`Bearer ${ADMIN_KEY}`);
    try {
      const result = await execute(client, '{ viewer { apiKey { name scopes } } }');
      expect(result).toMatchObject({ data: { viewer: { apiKey: { name: 'ADMIN_API_KEY' } } } });
    } finally {
      await client.dispose();
    }
  });

  it.each([
    ['a missing key', undefined],
    ['an unknown key', 'Bearer mcp_unknown'],
  ])('closes the socket with 4403 for %s', async (_label, authorization) => {
    const { client, closes } = connect(authorization);
    await expect(execute(client, '{ viewer { apiKey { id } } }')).rejects.toBeDefined();
    expect(closes).toContain(4403);
    await client.dispose();
  });
});
