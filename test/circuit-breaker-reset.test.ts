import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CircuitBreaker } from '../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { CircuitBreakerState } from '../src/registry/registry.enums.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

const RESET = 'mutation ($serverId: ID!) { resetCircuitBreaker(serverId: $serverId) { state failureCount } }';

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

const auditRowsOf = (resourceId: string | null) =>
  app.orm.em.fork().find(AuditLog, { action: 'circuit_breaker.reset', resourceId });
const breakerOf = (serverId: string) =>
  app.orm.em.fork().findOneOrFail(CircuitBreaker, { server: serverId }, { populate: ['server'] });

async function openServer(tenant: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>, name: string) {
  const [server] = await tenant.servers([{ name, circuitState: CircuitBreakerState.OPEN }]);
  if (!server) throw new Error('no server seeded');
  const em = app.orm.em.fork();
  await em.nativeUpdate(CircuitBreaker, { server: server.id }, { failureCount: 5, openedAt: new Date() });
  return server;
}

describe('resetCircuitBreaker', () => {
  it('is one transaction of one locking read, two updates and the audit row', async () => {
    const tenant = await seed(app.orm).tenant('reset-statements');
    const server = await openServer(tenant, 'tripped');
    const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    await app.graphql({ query: '{ viewer { apiKey { id } } }', key }); // the key is read once, then cached

    const { result, statements } = await app.countStatements(() =>
      app.graphql({ query: RESET, variables: { serverId: server.id }, key }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ resetCircuitBreaker: { state: 'CLOSED', failureCount: 0 } });
    const kinds = statements.map((sql) => /^\[query\] (\w+)/.exec(sql)?.[1]);
    expect(kinds).toEqual(['begin', 'select', 'insert', 'update', 'update', 'commit']);
    const read = statements[1] ?? '';
    expect(read).toContain('"circuit_breakers"');
    expect(read).toContain('"mcp_servers"');
    // The server's row first, as every other writer takes them; never the tenant's row.
    expect(read).toMatch(/for update of "server", "breaker"/);
    expect(read).not.toContain('"tenants"');

    const breaker = await breakerOf(server.id);
    expect(breaker).toMatchObject({ state: CircuitBreakerState.CLOSED, failureCount: 0, openedAt: null });
    expect(breaker.server.getEntity().eventVersion).toBe(server.eventVersion + 1);
    expect(await auditRowsOf(server.id)).toMatchObject([{ success: true, tenantId: tenant.id }]);
  });

  it("answers NOT_FOUND for another tenant's server, one outside the key's servers and a malformed id, with a failed audit row", async () => {
    const owner = await seed(app.orm).tenant('reset-owner');
    const foreign = await openServer(owner, 'foreign');
    const caller = await seed(app.orm).tenant('reset-caller');
    const [allowed, hidden] = [await openServer(caller, 'allowed'), await openServer(caller, 'hidden')];
    const { key: narrowKey } = await caller.key([ApiKeyScope.READ, ApiKeyScope.WRITE], {
      allowedServers: [allowed.id],
    });
    const { key: otherTenantKey } = await caller.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);

    for (const [key, serverId] of [
      [otherTenantKey, foreign.id],
      [narrowKey, hidden.id],
      [narrowKey, 'not-a-uuid'],
    ] as const) {
      const { data, errors } = await app.graphql({ query: RESET, variables: { serverId }, key });
      expect(data).toBeNull();
      expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await auditRowsOf(null)).toContainEqual(
        expect.objectContaining({ success: false, tenantId: caller.id, details: { error: 'NOT_FOUND' } }),
      );
    }
    for (const untouched of [foreign, hidden]) {
      expect(await breakerOf(untouched.id)).toMatchObject({
        state: CircuitBreakerState.OPEN,
        failureCount: 5,
      });
      expect((await breakerOf(untouched.id)).server.getEntity().eventVersion).toBe(untouched.eventVersion);
    }

    const own = await app.graphql({ query: RESET, variables: { serverId: allowed.id }, key: narrowKey });
    expect(own.data).toEqual({ resetCircuitBreaker: { state: 'CLOSED', failureCount: 0 } });
  });

  // PGlite serves one connection: a second transaction holding a lock would stop everything.
  it.skipIf(!postgresAvailable())("does not wait for a change of the tenant's row", async () => {
    const tenant = await seed(app.orm).tenant('reset-tenant-lock');
    const server = await openServer(tenant, 'busy-tenant');
    const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = () => {};
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const holder = app.orm.em.fork().transactional(async (tx) => {
      await tx.nativeUpdate(Tenant, { id: tenant.id }, { name: 'reset-tenant-lock-renamed' });
      holding();
      await released;
    });
    await held;
    try {
      // The locking read once took the tenant's row too (FOR UPDATE through the tenant filter's join): this
      // waited for `release`, which never came.
      const reset = await app.graphql({ query: RESET, variables: { serverId: server.id }, key });
      expect(reset.data).toEqual({ resetCircuitBreaker: { state: 'CLOSED', failureCount: 0 } });
    } finally {
      release();
      await holder;
    }
  });

  it('takes a burst of concurrent resets in one tenant, each server twice: every reset counts in its version', async () => {
    const tenant = await seed(app.orm).tenant('reset-burst');
    const servers = await tenant.servers(
      Array.from({ length: 10 }, (_, index) => ({
        name: `burst-${index}`,
        circuitState: CircuitBreakerState.OPEN,
      })),
    );
    const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    const answers = await Promise.all(
      [...servers, ...servers].map((server) =>
        app.graphql({ query: RESET, variables: { serverId: server.id }, key }),
      ),
    );
    expect(answers.map((answer) => answer.errors)).toEqual(answers.map(() => undefined));
    const versions = await app.orm.em
      .fork()
      .find(MCPServer, { id: { $in: servers.map((server) => server.id) } }, { fields: ['eventVersion'] });
    expect(versions.map((server) => server.eventVersion)).toEqual(servers.map(() => 2));
  });
});
