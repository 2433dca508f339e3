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

  /** The errors an operation ends with, whether graphql-ws sends them as a result or as an error message. */
  async function errorsOf(payload: {
    query: string;
    variables?: Record<string, unknown>;
    operationName?: string;
  }) {
    const { client } = connect(`Bearer ${ADMIN_KEY}`);
    try {
      return await new Promise<{ message: string; extensions?: Record<string, unknown> }[]>((resolve) => {
        client.subscribe(payload, {
          next: (value) => resolve((value.errors ?? []) as { message: string }[]),
          error: (errors) => resolve(errors as { message: string }[]),
          complete: () => resolve([]),
        });
      });
    } finally {
      await client.dispose();
    }
  }

  it('answers bad variables and unknown operation names with coded errors, as over HTTP', async () => {
    const badVariables = await errorsOf({
      query: 'query($first: Int) { servers(first: $first) { totalCount } }',
      variables: { first: 'ten' },
    });
    expect(badVariables).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    const unknownOperation = await errorsOf({ query: 'query A { __typename }', operationName: 'B' });
    expect(unknownOperation).toEqual([
      { message: 'Unknown operation named "B".', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } },
    ]);
  });

  it('refuses the NUL character in variables with BAD_USER_INPUT, as over HTTP', async () => {
    const errors = await errorsOf({
      query: 'query($search: String) { servers(filter: { search: $search }) { totalCount } }',
      variables: { search: 'a\u0000b' },
    });
    expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('never sends what went wrong inside (here SQL text, for a forged cursor)', async () => {
    const forged = Buffer.from(JSON.stringify([1e308, ''])).toString('base64url');
    const errors = await errorsOf({ query: `{ apiKeys(after: "${forged}") { totalCount } }` });
    expect(errors).toHaveLength(1);
    expect(typeof errors[0]?.extensions?.code).toBe('string');
    expect(JSON.stringify(errors)).not.toMatch(/select|api_keys|created_at/i);
  });
});
