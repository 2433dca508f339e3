import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { ADMIN_KEY, type Fleet, startFleet, startTestApp, type TestApp } from './support/app.js';
import {
  createTestDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from './support/database.js';
import { eventually } from './support/eventually.js';
import { RedisProcess, redisServerInstalled } from './support/redis-process.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';

// The key cache (src/auth/key-cache.ts) under issue 13's rule: a revoked, expired or locked key is still
// refused on the very next request on every instance; invalidation goes through the event bus, and no cache is
// used while the bus is down. Structural checks count statements, never time.

const TYPENAME = '{ __typename }';
const REVOKE = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }';
const MAX_FAILED_ATTEMPTS = 3;

const keyReads = (statements: readonly string[]) => statements.filter((sql) => sql.includes('"api_keys"'));

async function statementsOf(app: TestApp, key: string): Promise<{ status: number; keyReads: number }> {
  const { result, statements } = await app.countStatements(() => app.graphql({ query: TYPENAME, key }));
  return { status: result.status, keyReads: keyReads(statements).length };
}

/** A wrong secret with the key's prefix (what counts towards a lockout). */
const wrongSecret = (key: string, variant: number) => `${key.slice(0, 12)}${String(variant).repeat(43)}`;

describe('the key cache of one instance', () => {
  let db: TestDatabase;
  let app: TestApp;
  let acme: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target, { MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS) });
    acme = await seed(app.orm).tenant('key-cache');
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('reads a key once, then answers a request that needs no data with no SQL statement at all', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    expect(await statementsOf(app, key)).toEqual({ status: 200, keyReads: 1 });
    const warm = await app.countStatements(() => app.graphql({ query: TYPENAME, key }));
    expect(warm.result.status).toBe(200);
    expect(warm.statements).toEqual([]);
  });

  it('refuses a revoked key on its very next request', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    expect((await statementsOf(app, key)).status).toBe(200);
    expect(await statementsOf(app, key)).toEqual({ status: 200, keyReads: 0 });
    const revoked = await app.graphql({ query: REVOKE, variables: { id }, key: ADMIN_KEY });
    expect(revoked.errors).toBeUndefined();
    expect((await app.graphql({ query: TYPENAME, key })).status).toBe(401);
  });

  it('refuses a key locked by wrong secrets on its very next request', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    await app.graphql({ query: TYPENAME, key });
    expect(await statementsOf(app, key)).toEqual({ status: 200, keyReads: 0 });
    for (let attempt = 0; attempt < MAX_FAILED_ATTEMPTS; attempt++) {
      expect((await app.graphql({ query: TYPENAME, key: wrongSecret(key, attempt) })).status).toBe(401);
    }
    expect((await app.graphql({ query: TYPENAME, key })).status).toBe(401);
  });

  it('checks expiry at every use: a cached key is refused once it has expired', async () => {
    const { key } = await acme.key([ApiKeyScope.READ], { expiresAt: new Date(Date.now() + 1500) });
    await app.graphql({ query: TYPENAME, key });
    expect(await statementsOf(app, key)).toEqual({ status: 200, keyReads: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const refused = await app.countStatements(() => app.graphql({ query: TYPENAME, key }));
    expect(refused.result.status).toBe(401);
    // The refusal takes the full path: the key is read and the failure counted as before.
    expect(keyReads(refused.statements).length).toBeGreaterThan(0);
  });

  it('still counts every request against the key’s rate limit', async () => {
    const { key } = await acme.key([ApiKeyScope.READ], { rateLimitPerHour: 3 });
    const statuses: number[] = [];
    for (let request = 0; request < 5; request++) statuses.push((await statementsOf(app, key)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('never serves one key’s viewer to another key', async () => {
    const other = await seed(app.orm).tenant('key-cache-other');
    const mine = await acme.key([ApiKeyScope.READ]);
    const theirs = await other.key([ApiKeyScope.READ]);
    const viewer = '{ viewer { tenant { name } } }';
    for (let round = 0; round < 2; round++) {
      const a = await app.graphql<{ viewer: { tenant: { name: string } } }>({ query: viewer, key: mine.key });
      const b = await app.graphql<{ viewer: { tenant: { name: string } } }>({
        query: viewer,
        key: theirs.key,
      });
      expect([a.data?.viewer.tenant.name, b.data?.viewer.tenant.name]).toEqual([
        'key-cache',
        'key-cache-other',
      ]);
    }
  });
});

describe.skipIf(!postgresAvailable() || !redisAvailable())('the key caches of two instances on Redis', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet({ REDIS_URL, MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS) });
  });

  afterAll(() => fleet?.close());

  /** A key both instances have read and now answer from their caches. */
  async function keyCachedOnBoth() {
    const { instanceA, instanceB } = fleet;
    const tenant = await seed(instanceA.orm).tenant(`fleet-${Math.random().toString(36).slice(2)}`);
    const issued = await tenant.key([ApiKeyScope.READ]);
    for (const app of [instanceA, instanceB]) {
      await eventually(
        async () => (await statementsOf(app, issued.key)).keyReads === 0,
        'the instance answers from its key cache',
      );
    }
    return issued;
  }

  it('refuses a key revoked on instance A on the very next request to instance B', async () => {
    const { instanceA, instanceB } = fleet;
    const { key, id } = await keyCachedOnBoth();
    const revoked = await instanceA.graphql({ query: REVOKE, variables: { id }, key: ADMIN_KEY });
    expect(revoked.errors).toBeUndefined();
    expect((await instanceB.graphql({ query: TYPENAME, key })).status).toBe(401);
    expect((await instanceA.graphql({ query: TYPENAME, key })).status).toBe(401);
  });

  it('refuses a key locked on instance A on the very next request to instance B', async () => {
    const { instanceA, instanceB } = fleet;
    const { key } = await keyCachedOnBoth();
    for (let attempt = 0; attempt < MAX_FAILED_ATTEMPTS; attempt++) {
      await instanceA.graphql({ query: TYPENAME, key: wrongSecret(key, attempt) });
    }
    expect((await instanceB.graphql({ query: TYPENAME, key })).status).toBe(401);
  });
});

describe.skipIf(!redisServerInstalled)('the key cache while the event bus is down', () => {
  let db: TestDatabase;
  let redis: RedisProcess;
  let app: TestApp;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    db = await createTestDatabase();
    app = await startTestApp(db.target, { REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await redis?.kill();
  });

  it('reads the key on every request while Redis is away, and caches again once it is back', async () => {
    const acme = await seed(app.orm).tenant('bus-down');
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    await eventually(async () => (await statementsOf(app, key)).keyReads === 0, 'the key is cached');

    await redis.kill();
    await eventually(async () => !app.eventBus.isReady(), 'the instance sees Redis gone');
    for (let request = 0; request < 3; request++) {
      expect(await statementsOf(app, key)).toEqual({ status: 200, keyReads: 1 });
    }
    // A change made meanwhile (by SQL, as another instance whose event is lost would) is seen at once.
    await app.orm.em.fork().execute('update api_keys set is_active = false where id = ?', [id]);
    expect((await app.graphql({ query: TYPENAME, key })).status).toBe(401);
    await app.orm.em.fork().execute('update api_keys set is_active = true where id = ?', [id]);

    await redis.resume();
    await eventually(async () => (await statementsOf(app, key)).keyReads === 0, 'the key is cached again');
  }, 60_000);
});
