import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { HEALTH_TOPICS, type ServerHealthEvent } from '../src/health/health.events.js';
import { ServerStatus } from '../src/registry/registry.enums.js';
import { ServerHealthChangedDocument } from './sdk/graphql.js';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, redisAvailable, type TestDatabase } from './support/database.js';
import { eventually } from './support/eventually.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';
import { subscribe } from './support/subscriptions.js';

// Live subscriptions are served by group (src/graphql/subscription-fan-out.ts): subscribers with the same
// document, variables and access scope share one execution per change. These tests hold what that must not
// change (each viewer sees only its own answer) and what it gains (one execution per change and group).

const HEALTH = print(ServerHealthChangedDocument);

type HealthData = { serverHealthChanged: { serverId: string; status: string; server: { name: string } } };

let nextVersion = 1000;

/** A health change as the health checker publishes it, newer than anything before. */
function healthChange(server: { id: string; tenantId: string }): ServerHealthEvent {
  nextVersion += 1;
  return {
    serverId: server.id,
    tenantId: server.tenantId,
    previousStatus: ServerStatus.HEALTHY,
    status: ServerStatus.DEGRADED,
    responseTimeMs: 42,
    error: null,
    checkedAt: new Date(),
    version: nextVersion,
  };
}

/** Changes (not first states) a subscriber received, as "server name: status". */
function changesOf(events: Record<string, unknown>[]): string[] {
  return (events as HealthData[])
    .map((event) => event.serverHealthChanged)
    .filter((event) => event.status === 'DEGRADED')
    .map((event) => `${event.server.name}: ${event.status}`)
    .sort();
}

async function scrape(app: TestApp, series: string): Promise<number> {
  const response = await fetch(`${app.origin}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  const line = (await response.text()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

const EXECUTIONS = 'mcp_gateway_subscription_change_executions_total';
const GROUPS = 'mcp_gateway_subscription_groups';

/** Waits until the instance serves `count` groups (a group goes once its last subscriber's socket is closed). */
const groupsReach = (app: TestApp, count: number) =>
  eventually(async () => (await scrape(app, GROUPS)) === count, `${count} subscription groups`);

const buses: { bus: string; env: Record<string, string> }[] = [
  { bus: 'in-process', env: {} },
  ...(redisAvailable() ? [{ bus: 'Redis', env: { REDIS_URL } }] : []),
];

describe.each(buses)('live subscriptions by group (event bus: $bus)', ({ env }) => {
  let app: TestApp;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target, env);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('show viewers of different scope on the same topic and document only their own answers', async () => {
    const acme = await seed(app.orm).tenant('acme');
    const [alpha, beta] = await acme.servers([{ name: 'alpha' }, { name: 'beta' }]);
    const globex = await seed(app.orm).tenant('globex');
    const [gamma] = await globex.servers([{ name: 'gamma' }]);
    if (alpha === undefined || beta === undefined || gamma === undefined) throw new Error('not seeded');
    const { key: wholeTenant } = await acme.key([ApiKeyScope.READ]);
    const { key: alphaOnly } = await acme.key([ApiKeyScope.READ], { allowedServers: [alpha.id] });
    const { key: otherTenant } = await globex.key([ApiKeyScope.HEALTH]);

    await groupsReach(app, 0);
    const whole = subscribe(app, wholeTenant, HEALTH, {});
    const limited = subscribe(app, alphaOnly, HEALTH, {});
    const other = subscribe(app, otherTenant, HEALTH, {});
    await Promise.all([whole.until(2), limited.until(1), other.until(1)]);
    // The same document and variables, three access scopes: three groups.
    expect(await scrape(app, GROUPS)).toBe(3);

    for (const server of [alpha, beta, gamma]) {
      app.eventBus.pubSub.publish(
        HEALTH_TOPICS.serverHealthChanged,
        healthChange({ id: server.id, tenantId: server.tenant.id }),
      );
    }
    await Promise.all([whole.until(4), limited.until(2), other.until(2)]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // give a leak time to show
    expect(changesOf(whole.events)).toEqual(['alpha: DEGRADED', 'beta: DEGRADED']);
    expect(changesOf(limited.events)).toEqual(['alpha: DEGRADED']);
    expect(changesOf(other.events)).toEqual(['gamma: DEGRADED']);
    expect([...whole.errors, ...limited.errors, ...other.errors]).toEqual([]);
    await Promise.all([whole.close(), limited.close(), other.close()]);
  });

  it('execute a change once for subscribers that see the same answer, however many they are', async () => {
    const tenant = await seed(app.orm).tenant('dashboards');
    const [server] = await tenant.servers([{ name: 'watched' }]);
    if (server === undefined) throw new Error('not seeded');
    const { key } = await tenant.key([ApiKeyScope.READ]);
    await groupsReach(app, 0);
    const dashboards = Array.from({ length: 6 }, () => subscribe(app, key, HEALTH, {}));
    await Promise.all(dashboards.map((dashboard) => dashboard.until(1)));
    expect(await scrape(app, GROUPS)).toBe(1);

    const executionsBefore = await scrape(app, EXECUTIONS);
    const { statements } = await app.countStatements(async () => {
      app.eventBus.pubSub.publish(
        HEALTH_TOPICS.serverHealthChanged,
        healthChange({ id: server.id, tenantId: tenant.id }),
      );
      await Promise.all(dashboards.map((dashboard) => dashboard.until(2)));
    });
    for (const dashboard of dashboards) {
      expect(changesOf(dashboard.events)).toEqual(['watched: DEGRADED']);
      expect(dashboard.errors).toEqual([]);
    }
    expect(await scrape(app, EXECUTIONS)).toBe(executionsBefore + 1);
    // The selection's `server` is read once for the six of them, not once each.
    expect(statements.filter((sql) => sql.includes('mcp_servers'))).toHaveLength(1);

    // One leaves: the others go on; when the last leaves, the group is gone.
    await dashboards[0]?.close();
    app.eventBus.pubSub.publish(
      HEALTH_TOPICS.serverHealthChanged,
      healthChange({ id: server.id, tenantId: tenant.id }),
    );
    await Promise.all(dashboards.slice(1).map((dashboard) => dashboard.until(3)));
    expect(dashboards.slice(1).every((dashboard) => dashboard.events.length === 3)).toBe(true);
    await Promise.all(dashboards.slice(1).map((dashboard) => dashboard.close()));
    await groupsReach(app, 0);
  });
});
