import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { RequestLog } from '../src/audit/request-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { scopeToTenant, TENANT_SCOPE, type TenantScope } from '../src/db/tenant-scope.js';
import { HealthCheck, ProbeOutcome } from '../src/health/health-check.entity.js';
import { CircuitBreaker } from '../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { ServerPrompt } from '../src/registry/server-prompt.entity.js';
import { ServerResource } from '../src/registry/server-resource.entity.js';
import { ServerTool } from '../src/registry/server-tool.entity.js';
import { routedServers } from '../src/routing/routed-servers.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { User } from '../src/users/user.entity.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

// The tenant filter is the one place tenant isolation is enforced for ORM queries (the isolation walk in
// tenant-isolation.test.ts proves the API end to end). These tests pin the filter itself down.

let db: TestDatabase;
let app: TestApp;
let alpha: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let bravo: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let alphaServers: MCPServer[];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  alpha = await seed(app.orm).tenant('alpha-scope');
  bravo = await seed(app.orm).tenant('bravo-scope');
  alphaServers = await alpha.servers([
    { name: 'a1', tools: ['t'], resources: ['file:///a1'], prompts: ['p'], probes: [ProbeOutcome.OK] },
    { name: 'a2', tools: ['t', 'u'], resources: ['file:///a2'], prompts: ['p'], probes: [ProbeOutcome.OK] },
  ]);
  await bravo.servers([
    {
      name: 'b1',
      tools: ['t', 'u', 'v'],
      resources: ['file:///b1'],
      prompts: ['p', 'q'],
      probes: [ProbeOutcome.OK],
    },
  ]);
  await Promise.all([alpha.user('ann'), bravo.user('bob'), bravo.user('bea')]);
  await Promise.all([alpha.key(), bravo.key(), bravo.key()]);
  await seed(app.orm).auditLogs([
    { action: 'x.a', resourceType: 'x', tenantId: alpha.id, at: new Date() },
    { action: 'x.b', resourceType: 'x', tenantId: bravo.id, at: new Date() },
  ]);
  await seed(app.orm).requestLogs([
    { tenantId: alpha.id, durationMs: 1, at: new Date() },
    { tenantId: bravo.id, durationMs: 1, at: new Date() },
  ]);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const scoped = (scope: TenantScope | null) => {
  const em = app.orm.em.fork();
  scopeToTenant(em, scope);
  return em;
};

describe('the tenant scope', () => {
  it('is declared by every entity that belongs to a tenant or to a server', () => {
    const metadata = app.orm.getMetadata();
    const unscoped = Object.values(metadata.getAll())
      .filter((meta) => !meta.abstract && !meta.embeddable)
      .filter((meta) => ['tenant', 'tenantId', 'server'].some((name) => name in meta.properties))
      .filter((meta) => meta.filters[TENANT_SCOPE] === undefined)
      .map((meta) => meta.className);
    // Leases and other bookkeeping the API never serves may stay unscoped, by name.
    expect(unscoped.filter((name) => !BOOKKEEPING.has(name))).toEqual([]);
  });

  it("limits every read of a tenant's request to its own rows", async () => {
    const em = scoped({ tenantId: alpha.id, serverIds: null });
    const unscopedEm = scoped(null);
    const owned = [
      [Tenant, 1],
      [MCPServer, 2],
      [ServerTool, 3],
      [ServerResource, 2],
      [ServerPrompt, 2],
      [CircuitBreaker, 2],
      [HealthCheck, 2],
      [User, 1],
      [ApiKey, 1],
      [AuditLog, 1],
      [RequestLog, 1],
    ] as const;
    for (const [entity, count] of owned) {
      expect({ entity: entity.name, count: await em.count(entity, {}) }).toEqual({
        entity: entity.name,
        count,
      });
      expect(await unscopedEm.count(entity, {})).toBeGreaterThan(count);
    }
    // Asking for the other tenant by name changes nothing: the scope is added to every condition.
    expect(await em.find(MCPServer, { tenant: bravo.id })).toEqual([]);
  });

  it("narrows to a key's allowed servers, for servers and what belongs to them", async () => {
    const only = alphaServers[0]?.id ?? '';
    const em = scoped({ tenantId: alpha.id, serverIds: [only] });
    expect((await em.find(MCPServer, {})).map((server) => server.id)).toEqual([only]);
    expect(await em.count(ServerTool, {})).toBe(1);
    expect(await em.count(CircuitBreaker, {})).toBe(1);
  });

  it("keeps a tenant's updates and deletes off other tenants' rows", async () => {
    const em = scoped({ tenantId: alpha.id, serverIds: null });
    const updated = await em.nativeUpdate(MCPServer, {}, { description: 'touched by alpha' });
    expect(updated).toBe(2);
    const deleted = await em.nativeDelete(ServerPrompt, { name: 'q' });
    expect(deleted).toBe(0);
    const check = app.orm.em.fork();
    expect(await check.count(MCPServer, { description: 'touched by alpha' })).toBe(2);
    expect(await check.count(ServerPrompt, { name: 'q' })).toBe(1);
  });

  it("is applied by the routed servers' plain statement as by the filter", async () => {
    const every = (await scoped(null).find(MCPServer, {}, { orderBy: { id: 'asc' } })).map(({ id }) => id);
    const routedIds = async (scope: TenantScope | null) =>
      (await routedServers(scoped(scope), every)).map(({ id }) => id);
    const filteredIds = async (scope: TenantScope | null) =>
      (await scoped(scope).find(MCPServer, { id: { $in: every } }, { orderBy: { id: 'asc' } })).map(
        ({ id }) => id,
      );
    const only = alphaServers[0]?.id ?? '';
    const scopes: (TenantScope | null)[] = [
      null,
      { tenantId: alpha.id, serverIds: null },
      { tenantId: bravo.id, serverIds: null },
      { tenantId: alpha.id, serverIds: [only] },
      { tenantId: bravo.id, serverIds: [only] },
      { tenantId: alpha.id, serverIds: [] },
      { tenantId: null, serverIds: null },
    ];
    for (const scope of scopes) expect(await routedIds(scope)).toEqual(await filteredIds(scope));
    expect(await routedIds({ tenantId: alpha.id, serverIds: [only] })).toEqual([only]);
  });

  it('goes with the EntityManager into its forks and transactions', async () => {
    const em = scoped({ tenantId: alpha.id, serverIds: null });
    expect(await em.fork().count(MCPServer, {})).toBe(2);
    expect(await em.transactional((tx) => tx.count(MCPServer, {}))).toBe(2);
  });
});

/** Entities with a tenant or server relation that are never served through the API. */
const BOOKKEEPING = new Set<string>(['CapabilityWatchLease']);
