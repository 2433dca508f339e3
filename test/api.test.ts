import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

const VIEWER = `query Viewer { viewer { apiKey { id name prefix scopes } user { id } tenant { id name status } } }`;
const CREATE_TENANT = `mutation CreateTenant($input: CreateTenantInput!) {
  createTenant(input: $input) { id name status settings }
}`;
const TENANTS = `query TenantList($first: Int, $after: String) {
  tenants(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name serverCount userCount } }
  }
}`;
const SERVER = `query Server($id: ID!) { server(id: $id) { id name tenant { id name } } }`;

type TenantPage = {
  tenants: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: { id: string; name: string; serverCount: number; userCount: number } }[];
  };
};

let db: TestDatabase;
let app: TestApp;
let acme: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let globex: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  acme = await seed(app.orm).tenant('acme');
  globex = await seed(app.orm).tenant('globex');
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const tenantCount = () => app.orm.em.fork().count(Tenant);
const auditRows = (action: string) =>
  app.orm.em.fork().find(AuditLog, { action }, { orderBy: { createdAt: 'ASC' } });

describe('identity', () => {
  it('tells an admin key who it is', async () => {
    const { data, errors } = await app.graphql<{ viewer: { apiKey: { scopes: string[] }; tenant: null } }>({
      query: VIEWER,
    });
    expect(errors).toBeUndefined();
    expect(data?.viewer.apiKey.scopes).toContain('ADMIN');
    expect(data?.viewer.tenant).toBeNull();
  });

  it("tells a tenant key its tenant, scopes and prefix, never the key's hash", async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const { data } = await app.graphql<{
      viewer: { apiKey: { prefix: string; scopes: string[] }; tenant: { id: string; name: string } };
    }>({ query: VIEWER, key });
    expect(data?.viewer.tenant).toMatchObject({ id: acme.id, name: 'acme' });
    expect(data?.viewer.apiKey.scopes).toEqual(['READ']);
    expect(key.startsWith(data?.viewer.apiKey.prefix ?? '-')).toBe(true);
  });

  it('reads the key with its tenant in one statement, and its user (if any) in one more', async () => {
    const viewerTenant = await seed(app.orm).tenant('viewer-joins');
    const user = await viewerTenant.user('viewer-statements');
    const statementsOf = async (key: string) => {
      await app.graphql({ query: VIEWER, key }); // the key is read once, then cached
      const { result, statements } = await app.countStatements(() =>
        app.graphql<{ viewer: unknown }>({ query: VIEWER, key }),
      );
      expect(result.errors).toBeUndefined();
      return { viewer: result.data?.viewer, statements: statements.length };
    };
    const keyOnly = await viewerTenant.key([ApiKeyScope.READ]);
    expect(await statementsOf(keyOnly.key)).toMatchObject({
      viewer: {
        apiKey: { id: keyOnly.id },
        user: null,
        tenant: { id: viewerTenant.id, name: 'viewer-joins' },
      },
      statements: 1,
    });
    const withUser = await viewerTenant.key([ApiKeyScope.READ], { userId: user.id });
    expect(await statementsOf(withUser.key)).toMatchObject({
      viewer: { apiKey: { id: withUser.id }, user: { id: user.id }, tenant: { id: viewerTenant.id } },
      statements: 2,
    });
  });

  it('answers every bad credential with the same UNAUTHENTICATED error and HTTP 401', async () => {
    const revoked = await acme.key([ApiKeyScope.READ], { isActive: false });
    const locked = await acme.key([ApiKeyScope.READ], { isLocked: true });
    const expired = await acme.key([ApiKeyScope.READ], { expiresAt: new Date(Date.now() - 1000) });
    const attempts: { key?: string | null; headers?: Record<string, string> }[] = [
      { key: null },
      { key: 'mcp_not-a-real-key' },
      { key: revoked.key },
      { key: locked.key },
      { key: expired.key },
      { key: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    ];
    const responses = await Promise.all(
      attempts.map((attempt) => app.graphql({ query: VIEWER, ...attempt })),
    );
    const messages = new Set(responses.map((response) => response.errors?.[0]?.message));
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.data ?? null).toBeNull();
      expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect(messages.size).toBe(1);
  });

  it('records when a key was last used, at most once a minute, off the request path', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    const lastUsed = async () => (await app.orm.em.fork().findOneOrFail(ApiKey, id)).lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await app.graphql({ query: VIEWER, key });
    let first: Date | null = null;
    for (let attempt = 0; attempt < 50 && first === null; attempt++) {
      first = await lastUsed();
      if (first === null) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(first).not.toBeNull();
    const { statements } = await app.countStatements(() => app.graphql({ query: VIEWER, key }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lastUsed()).toEqual(first);
    expect(statements.some((statement) => statement.includes('last_used_at'))).toBe(false);
  });

  it('accepts a key that has not expired yet', async () => {
    const { key } = await acme.key([ApiKeyScope.READ], { expiresAt: new Date(Date.now() + 60_000) });
    const { errors } = await app.graphql({ query: VIEWER, key });
    expect(errors).toBeUndefined();
  });
});

describe('createTenant', () => {
  it('creates a tenant and writes a successful audit row for the calling key', async () => {
    const { data, errors } = await app.graphql<{
      createTenant: { id: string; status: string; settings: unknown };
    }>({
      query: CREATE_TENANT,
      variables: { input: { name: '  initech  ', settings: { region: 'eu' } } },
    });
    expect(errors).toBeUndefined();
    expect(data?.createTenant).toMatchObject({ status: 'ACTIVE', settings: { region: 'eu' } });
    const [audit] = (await auditRows('tenant.create')).filter(
      (row) => row.resourceId === data?.createTenant.id,
    );
    expect(audit).toMatchObject({ success: true, resourceType: 'tenant', tenantId: null });
    expect(audit?.apiKeyId).not.toBeNull();
    const stored = await app.orm.em.fork().findOneOrFail(Tenant, data?.createTenant.id ?? '');
    expect(stored.name).toBe('initech');
  });

  it('refuses a duplicate name with CONFLICT, keeps nothing of it, and audits the failure', async () => {
    const before = await tenantCount();
    const { errors } = await app.graphql({ query: CREATE_TENANT, variables: { input: { name: 'acme' } } });
    expect(errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(errors?.[0]?.message).toContain('acme');
    expect(await tenantCount()).toBe(before);
    const failures = (await auditRows('tenant.create')).filter((row) => !row.success);
    expect(failures.at(-1)?.details).toMatchObject({ name: 'acme', error: 'CONFLICT' });
    expect(failures.at(-1)?.resourceId).toBeNull();
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ name: 'ok', settings: [1, 2] }, 'settings'],
    [{ name: 'ok', settings: 'text' }, 'settings'],
  ])('rejects bad input %j with BAD_USER_INPUT naming the field', async (input, field) => {
    const before = await tenantCount();
    const { errors } = await app.graphql({ query: CREATE_TENANT, variables: { input } });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await tenantCount()).toBe(before);
  });

  it('rejects a missing required field before execution', async () => {
    const { status, errors } = await app.graphql({ query: CREATE_TENANT, variables: { input: {} } });
    expect(status).toBe(400);
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is for platform admins only: a tenant key gets FORBIDDEN and nothing is created', async () => {
    const { key } = await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    const before = await tenantCount();
    const { errors, data } = await app.graphql({
      query: CREATE_TENANT,
      variables: { input: { name: 'rogue' } },
      key,
    });
    expect(data ?? null).toBeNull();
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(errors?.[0]?.message).toContain('ADMIN');
    expect(await tenantCount()).toBe(before);
  });
});

describe('tenants', () => {
  it('pages through every tenant in name order with stable cursors', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (let page = 0; page < 10; page++) {
      const response: { data: TenantPage | null | undefined } = await app.graphql<TenantPage>({
        query: TENANTS,
        variables: { first: 2, after },
      });
      const tenants = response.data?.tenants;
      if (!tenants) throw new Error('no tenants page');
      total = tenants.totalCount;
      seen.push(...tenants.edges.map((edge) => edge.node.name));
      if (!tenants.pageInfo.hasNextPage) break;
      after = tenants.pageInfo.endCursor;
    }
    expect(seen.length).toBe(total);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('continues after the cursor of a deleted tenant', async () => {
    const doomed = await seed(app.orm).tenant('aaa-doomed');
    const first = await app.graphql<TenantPage>({ query: TENANTS, variables: { first: 1 } });
    expect(first.data?.tenants.edges[0]?.node.id).toBe(doomed.id);
    await app.orm.em.fork().nativeDelete(Tenant, doomed.id);
    const next = await app.graphql<TenantPage>({
      query: TENANTS,
      variables: { first: 1, after: first.data?.tenants.pageInfo.endCursor },
    });
    expect(next.data?.tenants.edges[0]?.node.name).toBe('acme');
  });

  it('returns an empty page after the last row, and counts servers and users per tenant', async () => {
    await acme.server('search');
    await acme.server('files');
    const all = await app.graphql<TenantPage>({ query: TENANTS, variables: { first: 100 } });
    const last = all.data?.tenants.pageInfo.endCursor;
    const empty = await app.graphql<TenantPage>({ query: TENANTS, variables: { first: 5, after: last } });
    expect(empty.data?.tenants.edges).toEqual([]);
    expect(empty.data?.tenants.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    const acmeNode = all.data?.tenants.edges.find((edge) => edge.node.id === acme.id)?.node;
    expect(acmeNode).toMatchObject({ serverCount: 2, userCount: 0 });
  });

  it('shows a tenant key only its own tenant', async () => {
    const { key } = await globex.key([ApiKeyScope.READ]);
    const { data } = await app.graphql<TenantPage>({ query: TENANTS, variables: { first: 100 }, key });
    expect(data?.tenants.totalCount).toBe(1);
    expect(data?.tenants.edges.map((edge) => edge.node.id)).toEqual([globex.id]);
  });

  it.each([
    [{ first: 101 }, 'first'],
    [{ first: -1 }, 'first'],
    [{ first: 5, after: 'not-a-cursor' }, 'after'],
    // Forged cursors: an id that is no UUID, a sort value that is no name.
    [{ first: 5, after: Buffer.from('["acme","not-a-uuid"]').toString('base64url') }, 'after'],
    [{ first: 5, after: Buffer.from(`[1e308,"${randomUUID()}"]`).toString('base64url') }, 'after'],
  ])('rejects %j with BAD_USER_INPUT', async (variables, field) => {
    const { errors } = await app.graphql({ query: TENANTS, variables });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('server(id)', () => {
  it("resolves a server with its tenant for its own tenant's key", async () => {
    const server = await globex.server('weather');
    const { key } = await globex.key([ApiKeyScope.READ]);
    const { data, errors } = await app.graphql({ query: SERVER, variables: { id: server.id }, key });
    expect(errors).toBeUndefined();
    expect(data).toEqual({
      server: { id: server.id, name: 'weather', tenant: { id: globex.id, name: 'globex' } },
    });
  });

  it("answers NOT_FOUND, not FORBIDDEN, for another tenant's server and for unknown ids", async () => {
    const server = await globex.server('calendar');
    const { key } = await acme.key([ApiKeyScope.READ]);
    for (const id of [server.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const { errors } = await app.graphql({ query: SERVER, variables: { id }, key });
      expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('needs the READ scope', async () => {
    const server = await acme.server('metrics-only');
    const { key } = await acme.key([ApiKeyScope.METRICS]);
    const { errors } = await app.graphql({ query: SERVER, variables: { id: server.id }, key });
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('HTTP behaviour', () => {
  it('echoes a sane x-request-id and generates one otherwise', async () => {
    const given = await app.graphql({ query: VIEWER, headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const generated = await app.graphql({ query: VIEWER, headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed requests with clean 400 errors and no stack trace', async () => {
    const badJson = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      body: '{"query": ',
    });
    expect(badJson.status).toBe(400);
    const body = await badJson.text();
    expect(JSON.parse(body).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(body).not.toMatch(/at .*\.(js|ts):\d+/);

    const syntax = await app.graphql({ query: '{ viewer { ' });
    expect(syntax.status).toBe(400);
    expect(syntax.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');

    const unknownField = await app.graphql({ query: '{ nothingHere }' });
    expect(unknownField.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('reports liveness and readiness', async () => {
    const health = await fetch(`${app.origin}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${app.origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });
});
