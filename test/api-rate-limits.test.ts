import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { type Fleet, startFleet, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, redisAvailable, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';
import { openSocket } from './support/subscriptions.js';

const VIEWER = '{ viewer { apiKey { id } } }';
const UNAUTHENTICATED_PER_MINUTE = 3;

describe('rate limits over HTTP', () => {
  let db: TestDatabase;
  /** Trusts its loopback peer as a proxy, so `x-forwarded-for` stands for other client addresses. */
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target, {
      TRUSTED_PROXIES: '127.0.0.1, ::1',
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: String(UNAUTHENTICATED_PER_MINUTE),
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it("answer 429 with Retry-After and RATE_LIMITED once a key's hourly budget is spent", async () => {
    const acme = await seed(app.orm).tenant('acme-limited');
    const { key } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 3 });
    for (let i = 0; i < 3; i++) expect((await app.graphql({ query: VIEWER, key })).status).toBe(200);

    const refused = await app.graphql({ query: VIEWER, key });
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', budget: 'perHour' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2 * 3600);
    expect(refused.errors?.[0]?.extensions?.retryAfter).toBe(retryAfter);
    expect(refused.data).toBeUndefined();
  });

  it('apply the daily budget too, and leave keys without limits alone', async () => {
    const acme = await seed(app.orm).tenant('acme-daily');
    const { key: daily } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 100, rateLimitPerDay: 2 });
    const { key: unlimited } = await acme.key([ApiKeyScope.READ]);
    await app.graphql({ query: VIEWER, key: daily });
    await app.graphql({ query: VIEWER, key: daily });
    const refused = await app.graphql({ query: VIEWER, key: daily });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', budget: 'perDay' });
    for (let i = 0; i < 20; i++)
      expect((await app.graphql({ query: VIEWER, key: unlimited })).status).toBe(200);
  });

  it('refuse an address after its unauthenticated budget, before looking at its key', async () => {
    const address = '203.0.113.7';
    const headers = { 'x-forwarded-for': address };
    for (let i = 0; i < UNAUTHENTICATED_PER_MINUTE; i++) {
      const refused = await app.graphql({ query: VIEWER, key: `mcp_wrong${i}`, headers });
      expect(refused.status).toBe(401);
    }
    const limited = await app.graphql({ query: VIEWER, key: 'mcp_wrong-again', headers });
    expect(limited.status).toBe(429);
    expect(limited.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      budget: 'unauthenticated',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // Refused without a statement: a flood from one address costs the database nothing.
    const acme = await seed(app.orm).tenant('acme-neighbour');
    const { key } = await acme.key([ApiKeyScope.READ]);
    const { result, statements } = await app.countStatements(() =>
      app.graphql({ query: VIEWER, key, headers }),
    );
    expect(result.status).toBe(429);
    expect(statements).toEqual([]);

    // Other addresses are not affected.
    const elsewhere = { 'x-forwarded-for': '203.0.113.8' };
    expect((await app.graphql({ query: VIEWER, key: 'mcp_wrong', headers: elsewhere })).status).toBe(401);
    expect((await app.graphql({ query: VIEWER, key, headers: elsewhere })).status).toBe(200);
  });

  it('count each subscription over a websocket against the key', async () => {
    const acme = await seed(app.orm).tenant('acme-sockets');
    const { key } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 2 });
    const socket = await openSocket(app, key);
    try {
      expect(await socket.acknowledged).toBe(true); // the connection is request 1
      expect(await socket.execute(VIEWER)).toMatchObject({ data: { viewer: { apiKey: {} } } }); // 2
      const refused = await socket.execute(VIEWER);
      expect(refused).toMatchObject({
        errors: [{ extensions: { code: 'RATE_LIMITED', budget: 'perHour' } }],
      });
    } finally {
      socket.close();
    }
    // With the budget spent, a new connection is closed with 4429.
    const late = await openSocket(app, key);
    expect(await late.acknowledged).toBe(false);
    expect((await late.closed).code).toBe(4429);
  });
});

describe('RATE_LIMITS=off', () => {
  it('admits everything', async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db.target, {
      RATE_LIMITS: 'off',
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1',
    });
    try {
      const acme = await seed(app.orm).tenant('acme-unlimited');
      const { key } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 1 });
      for (let i = 0; i < 3; i++) expect((await app.graphql({ query: VIEWER, key })).status).toBe(200);
      for (let i = 0; i < 3; i++)
        expect((await app.graphql({ query: VIEWER, key: 'mcp_bad' })).status).toBe(401);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe.skipIf(!redisAvailable())('rate limits across instances sharing Redis', () => {
  let fleet: Fleet;
  let instanceA: TestApp;
  let instanceB: TestApp;

  beforeAll(async () => {
    fleet = await startFleet({ REDIS_URL });
    ({ instanceA, instanceB } = fleet);
  });

  afterAll(() => fleet?.close());

  it('spend one budget per key, whichever instance serves the request', async () => {
    const acme = await seed(instanceA.orm).tenant('acme-fleet');
    const { key } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 5 });
    for (const instance of [instanceA, instanceB, instanceA, instanceB, instanceA]) {
      expect((await instance.graphql({ query: VIEWER, key })).status).toBe(200);
    }
    expect((await instanceB.graphql({ query: VIEWER, key })).status).toBe(429);
    expect((await instanceA.graphql({ query: VIEWER, key })).status).toBe(429);
  });
});
