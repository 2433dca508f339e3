import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CircuitBreaker } from '../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { CircuitBreakerState } from '../src/registry/registry.enums.js';
import { CircuitBreakerChangedDocument, ServerHealthChangedDocument } from './sdk/graphql.js';
import { type Fleet, startFleet, startTestApp, type TestApp } from './support/app.js';
import {
  createTestDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from './support/database.js';
import { RedisProcess, redisServerInstalled } from './support/redis-process.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';
import { subscribe } from './support/subscriptions.js';

const RESET = `mutation($serverId: ID!) { resetCircuitBreaker(serverId: $serverId) { state failureCount } }`;

async function openBreaker(app: TestApp, serverId: string): Promise<void> {
  const em = app.orm.em.fork();
  const breaker = await em.findOneOrFail(CircuitBreaker, { server: serverId });
  Object.assign(breaker, { state: CircuitBreakerState.OPEN, failureCount: 5, openedAt: new Date() });
  await em.flush();
}

describe('subscriptions', () => {
  let app: TestApp;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('start with the current state, then deliver changes with increasing versions', async () => {
    const acme = await seed(app.orm).tenant('acme');
    const [server] = await acme.servers([{ name: 'flaky' }]);
    const serverId = server?.id ?? '';
    await openBreaker(app, serverId);
    const { key } = await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);

    const breakers = subscribe(app, key, print(CircuitBreakerChangedDocument), { serverId });
    const health = subscribe(app, key, print(ServerHealthChangedDocument), { serverId });
    await breakers.until(1);
    await health.until(1);
    expect(breakers.events[0]).toMatchObject({
      circuitBreakerChanged: {
        serverId,
        tenantId: acme.id,
        previousState: null,
        state: 'OPEN',
        failureCount: 5,
      },
    });
    expect(health.events[0]).toMatchObject({
      serverHealthChanged: {
        serverId,
        status: 'HEALTHY',
        previousStatus: null,
        server: { id: serverId, name: 'flaky' },
      },
    });

    const reset = await app.graphql({ query: RESET, variables: { serverId }, key });
    expect(reset.data).toEqual({ resetCircuitBreaker: { state: 'CLOSED', failureCount: 0 } });
    await breakers.until(2);
    expect(breakers.events[1]).toMatchObject({
      circuitBreakerChanged: { serverId, previousState: 'OPEN', state: 'CLOSED', failureCount: 0 },
    });
    expect(breakers.errors).toEqual([]);
    await Promise.all([breakers.close(), health.close()]);
  });

  it("never shows another tenant's servers: NOT_FOUND by id, and no events without one", async () => {
    const owner = await seed(app.orm).tenant('owner');
    const [server] = await owner.servers([{ name: 'private' }]);
    const serverId = server?.id ?? '';
    const outsider = await seed(app.orm).tenant('outsider');
    const { key } = await outsider.key([ApiKeyScope.READ]);

    const byId = subscribe(app, key, print(CircuitBreakerChangedDocument), { serverId });
    await byId.until(1);
    expect(byId.events).toEqual([]);
    expect(JSON.stringify(byId.errors)).toContain('NOT_FOUND');

    const all = subscribe(app, key, print(CircuitBreakerChangedDocument), {});
    await app.graphql({ query: RESET, variables: { serverId } }); // the admin resets the owner's breaker
    await all.until(1, 1000); // nothing may arrive: give a leak a second to show
    expect(all.events).toEqual([]);
    await Promise.all([byId.close(), all.close()]);
  });

  it('needs READ or HEALTH', async () => {
    const tenant = await seed(app.orm).tenant('metrics-only');
    const { key } = await tenant.key([ApiKeyScope.METRICS]);
    const denied = subscribe(app, key, print(CircuitBreakerChangedDocument), {});
    await denied.until(1);
    expect(JSON.stringify(denied.errors)).toContain('FORBIDDEN');
    await denied.close();
  });
});

describe.skipIf(!postgresAvailable() || !redisAvailable())('subscriptions across instances', () => {
  let fleet: Fleet;
  let instanceA: TestApp;
  let instanceB: TestApp;

  beforeAll(async () => {
    fleet = await startFleet({ REDIS_URL });
    ({ instanceA, instanceB } = fleet);
  });

  afterAll(() => fleet?.close());

  it('deliver a change made on instance A to a subscriber on instance B through Redis', async () => {
    const acme = await seed(instanceA.orm).tenant('acme-fleet');
    const [server] = await acme.servers([{ name: 'shared' }]);
    const serverId = server?.id ?? '';
    await openBreaker(instanceA, serverId);
    const { key } = await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);

    const onB = subscribe(instanceB, key, print(CircuitBreakerChangedDocument), { serverId });
    await onB.until(1);
    // The subscription is live once its snapshot arrived; the change happens on the other instance.
    await instanceA.graphql({ query: RESET, variables: { serverId }, key });
    await onB.until(2);
    expect(onB.events.map((event) => (event.circuitBreakerChanged as { state: string }).state)).toEqual([
      'OPEN',
      'CLOSED',
    ]);
    await onB.close();
  });
});

describe.skipIf(!redisServerInstalled)('subscriptions through a Redis outage', () => {
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

  it('end in the correct state after Redis restarts, without the client reconnecting', async () => {
    const acme = await seed(app.orm).tenant('outage');
    const [server] = await acme.servers([{ name: 'during-outage' }]);
    const serverId = server?.id ?? '';
    await openBreaker(app, serverId);
    const { key } = await acme.key([ApiKeyScope.READ]);
    const watcher = subscribe(app, key, print(CircuitBreakerChangedDocument), { serverId });
    await watcher.until(1);
    expect(watcher.events.at(-1)).toMatchObject({ circuitBreakerChanged: { state: 'OPEN' } });

    await redis.kill();
    // Another instance closes the circuit while Redis is down: its event is lost to pub/sub.
    const em = app.orm.em.fork();
    const breaker = await em.findOneOrFail(CircuitBreaker, { server: serverId });
    const row = await em.findOneOrFail(MCPServer, serverId);
    Object.assign(breaker, { state: CircuitBreakerState.CLOSED, failureCount: 0, openedAt: null });
    row.eventVersion += 1;
    await em.flush();

    await redis.resume();
    await watcher.waitFor((events) => JSON.stringify(events.at(-1)).includes('"CLOSED"'));
    expect(watcher.events.at(-1)).toMatchObject({ circuitBreakerChanged: { serverId, state: 'CLOSED' } });
    expect(watcher.errors).toEqual([]);
    await watcher.close();
  }, 30_000);
});
