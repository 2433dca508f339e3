import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ApiKeyScope } from '../src/graphql/access.js';
import { MAX_PAYLOAD_BYTES } from '../src/http/request-middleware.js';
import { ADMIN_KEY, type Fleet, startFleet, startTestApp, type TestApp } from './support/app.js';
import {
  createTestDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from './support/database.js';
import { eventually } from './support/eventually.js';
import { captureLines } from './support/log-capture.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';
import { openSocket } from './support/subscriptions.js';

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

function connect(authorization: string | undefined, paramName = 'authorization') {
  const closes: number[] = [];
  const client = createClient({
    url: app.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { [paramName]: authorization },
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

  it('takes the key under any spelling of authorization (GraphiQL sends its headers as connection params)', async () => {
    const { client } = connect(`Bearer ${ADMIN_KEY}`, 'Authorization');
    try {
      const result = await execute(client, '{ viewer { apiKey { name } } }');
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

  it('keeps the code of an error a subscription raises as it starts (an unknown server)', async () => {
    const errors = await errorsOf({
      query: 'subscription($serverId: ID) { serverHealthChanged(serverId: $serverId) { serverId } }',
      variables: { serverId: randomUUID() },
    });
    expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })]);
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

describe('a websocket message over the size limit', () => {
  it('closes the socket with 1009 and logs one structured line, nothing on the console', async () => {
    const lines: string[] = [];
    const logged = await startTestApp(
      db.target,
      { MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' },
      { logTo: captureLines(lines) },
    );
    const consoleError = vi.spyOn(console, 'error');
    try {
      const socket = new WebSocket(logged.url.replace('http', 'ws'), 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send('x'.repeat(MAX_PAYLOAD_BYTES + 1));
      expect(await closed).toBe(1009);
      await eventually(() => lines.some((line) => line.includes('websocket closed')), 'the close is logged');
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries.filter((entry) => entry.msg === 'websocket closed on a client error')).toEqual([
        expect.objectContaining({ level: 40, err: 'Max payload size exceeded' }),
      ]);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
      await logged.close();
    }
  });
});

describe('graphql-ws sockets and their keys', () => {
  let socketsDb: TestDatabase;
  let guarded: TestApp;
  let acme: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;

  beforeAll(async () => {
    socketsDb = await createTestDatabase();
    guarded = await startTestApp(socketsDb.target, {
      WS_MAX_CONNECTIONS: '4',
      WS_MAX_CONNECTIONS_PER_KEY: '2',
      WS_REAUTHORIZE_INTERVAL_MS: '200',
      WS_KEEPALIVE_MS: '200',
      MAX_FAILED_ATTEMPTS: '2',
    });
    acme = await seed(guarded.orm).tenant('acme-sockets');
  });

  afterAll(async () => {
    await guarded?.close();
    await socketsDb?.drop();
  });

  it("close a key's sockets with 4403 when it is revoked", async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    const socket = openSocket(guarded, key);
    expect(await socket.acknowledged).toBe(true);
    await guarded.graphql({
      query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
      variables: { id },
      key: ADMIN_KEY,
    });
    expect(await socket.closed).toMatchObject({ code: 4403 });
  });

  it('close a socket with 4403 when its key expires', async () => {
    const { key } = await acme.key([ApiKeyScope.READ], { expiresAt: new Date(Date.now() + 1000) });
    const socket = openSocket(guarded, key);
    expect(await socket.acknowledged).toBe(true);
    expect(await socket.closed).toMatchObject({ code: 4403, reason: expect.stringContaining('expired') });
  });

  it('close the sockets of a key that got locked, at the next periodic check', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const socket = openSocket(guarded, key);
    expect(await socket.acknowledged).toBe(true);
    // Wrong secrets with the key's prefix lock it (MAX_FAILED_ATTEMPTS=2); no event announces a lock.
    const wrong = `${key.slice(0, -4)}xxxx`;
    await guarded.graphql({ query: '{ viewer { apiKey { id } } }', key: wrong });
    await guarded.graphql({ query: '{ viewer { apiKey { id } } }', key: wrong });
    expect(await socket.closed).toMatchObject({ code: 4403 });
  });

  it('hold at most WS_MAX_CONNECTIONS_PER_KEY sockets per key', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const first = openSocket(guarded, key);
    const second = openSocket(guarded, key);
    expect(await first.acknowledged).toBe(true);
    expect(await second.acknowledged).toBe(true);
    const third = openSocket(guarded, key);
    expect(await third.acknowledged).toBe(false);
    expect(await third.closed).toMatchObject({ code: 4429 });
    first.close();
    await first.closed;
    const again = openSocket(guarded, key);
    expect(await again.acknowledged).toBe(true);
    second.close();
    again.close();
    await Promise.all([second.closed, again.closed]);
  });

  it('hold at most WS_MAX_CONNECTIONS sockets in all, and say 1013 to the next', async () => {
    const keys = await Promise.all([1, 2, 3].map(() => acme.key([ApiKeyScope.READ])));
    const sockets = keys.flatMap(({ key }) => [openSocket(guarded, key), openSocket(guarded, key)]);
    const outcomes = await Promise.all(sockets.map((socket) => socket.acknowledged));
    expect(outcomes.filter(Boolean)).toHaveLength(4);
    const refused = sockets.filter((_, index) => !outcomes[index]);
    for (const socket of refused) expect(await socket.closed).toMatchObject({ code: 1013 });
    for (const socket of sockets) socket.close();
    await Promise.all(sockets.map((socket) => socket.closed));
  });

  it('drop a peer that stops answering pings', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const silent = openSocket(guarded, key, { autoPong: false });
    expect(await silent.acknowledged).toBe(true);
    // The server terminates it without a close frame: the client sees an abnormal closure.
    expect(await silent.closed).toMatchObject({ code: 1006 });
  });

  it('answer bad variables with BAD_USER_INPUT, not a masked or bare error', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const socket = openSocket(guarded, key);
    try {
      const result = await socket.execute('query ($first: Int) { servers(first: $first) { totalCount } }', {
        first: 'many',
      });
      expect(result).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
      expect(JSON.stringify(result)).not.toMatch(/\bat .*\.(ts|js)/);
      // A null inside a list of non-null strings: graphql-js reports it with a cause, still the client's input.
      const nested = await socket.execute(
        'query ($tools: [String!]) { servers(filter: { tools: $tools }) { totalCount } }',
        { tools: ['search', null] },
      );
      expect(nested).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    } finally {
      socket.close();
    }
  });
});

describe.skipIf(!postgresAvailable() || !redisAvailable())('revocation across instances', () => {
  let fleet: Fleet;
  let instanceA: TestApp;
  let instanceB: TestApp;

  beforeAll(async () => {
    fleet = await startFleet({ REDIS_URL });
    ({ instanceA, instanceB } = fleet);
  });

  afterAll(() => fleet?.close());

  it('closes the sockets a key holds on instance B when it is revoked on instance A', async () => {
    const acme = await seed(instanceA.orm).tenant('acme-fleet-sockets');
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    const onB = openSocket(instanceB, key);
    expect(await onB.acknowledged).toBe(true);
    await instanceA.graphql({
      query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
      variables: { id },
      key: ADMIN_KEY,
    });
    // B's periodic check runs once a minute by default: only the event can close the socket this soon.
    expect(await onB.closed).toMatchObject({ code: 4403 });
  });
});
