import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { RequestLog } from '../src/audit/request-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { User } from '../src/users/user.entity.js';
import { connectAgent, INITIALIZE_2025, postMcp } from './support/agents.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { eventually } from './support/eventually.js';
import { closedAfterAll, startModernServer } from './support/mcp-servers.js';
import { API_AUDIENCE, type OpenIdProvider, startOpenIdProvider } from './support/openid-provider.js';
import { seed } from './support/seed.js';
import { openSocket } from './support/subscriptions.js';

// Access tokens from a real OpenID provider (oidc-provider on a local port) on /graphql, graphql-ws and /mcp.

let db: TestDatabase;
let app: TestApp;
let op: OpenIdProvider;
let acmeId = '';
const started = closedAfterAll();

const VIEWER = '{ viewer { apiKey { id } user { id username email role authProvider } tenant { name } } }';
const USERS = '{ users(first: 100) { edges { node { username tenant { name } } } } }';
const CREATE_USER =
  'mutation ($input: CreateUserInput!) { createUser(input: $input) { id username tenant { name } } }';

beforeAll(async () => {
  db = await createTestDatabase();
  op = await startOpenIdProvider([
    { id: 'reader-a', tenant: 'acme', roles: ['readonly'], username: 'Reader.A' },
    { id: 'writer-a', tenant: () => acmeId, roles: ['user'] },
    { id: 'writer-b', tenant: 'globex', roles: ['user', 'readonly'] },
    { id: 'ghost', tenant: 'no-such-tenant', roles: ['user'] },
    { id: 'no-tenant', roles: ['user'] },
    { id: 'racer', tenant: 'acme', roles: ['user'] },
    { id: 'short', tenant: 'acme', roles: ['user'], ttlSeconds: 2 },
    { id: 'boss', roles: ['platform-admin'] },
    { id: 'leaver', tenant: 'acme', roles: ['user'] },
    { id: 'admin-a', tenant: 'acme', roles: ['user', 'admin'] },
    { id: 'service-a', tenant: 'acme', roles: ['service'] },
  ]);
  app = await startTestApp(db.target, {
    OIDC_ISSUER: op.issuer,
    OIDC_AUDIENCE: API_AUDIENCE,
    OIDC_JWKS_COOLDOWN_MS: '0',
    WS_REAUTHORIZE_INTERVAL_MS: '300',
  });
  acmeId = (await seed(app.orm).tenant('acme')).id;
  await seed(app.orm).tenant('globex');
});

afterAll(async () => {
  await app?.close();
  await op?.close();
  await db?.drop();
});

const users = () => app.orm.em.fork().find(User, { authProvider: op.issuer });

describe('access tokens on /graphql', () => {
  it('creates the user on first sight and names it, its tenant and its role', async () => {
    const { status, data, errors } = await app.graphql({ query: VIEWER, key: await op.tokenFor('reader-a') });
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    expect(data).toMatchObject({
      viewer: {
        apiKey: null,
        user: {
          username: 'reader.a',
          email: 'reader-a@example.test',
          role: 'READONLY',
          authProvider: op.issuer,
        },
        tenant: { name: 'acme' },
      },
    });
    // The tenant claim names the tenant by id as well as by name.
    const byId = await app.graphql({ query: VIEWER, key: await op.tokenFor('writer-a') });
    expect(byId.data).toMatchObject({ viewer: { user: { role: 'USER' }, tenant: { name: 'acme' } } });
  });

  it("lets a READONLY user read but not write; the tenant's ADMIN adds a user, and the audit trail names it", async () => {
    const reader = await op.tokenFor('reader-a');
    const read = await app.graphql({ query: USERS, key: reader });
    expect(read.errors).toBeUndefined();
    const refused = await app.graphql({
      query: CREATE_USER,
      variables: { input: { username: 'by-reader', email: 'by-reader@example.test' } },
      key: reader,
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const admin = await op.tokenFor('admin-a');
    const created = await app.graphql<{ createUser: { id: string; tenant: { name: string } } }>({
      query: CREATE_USER,
      variables: { input: { username: 'colleague-a', email: 'colleague-a@example.test' } },
      key: admin,
    });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createUser.tenant.name).toBe('acme');
    const [writerUser] = (await users()).filter((user) => user.authProviderId === 'admin-a');
    const audit = await app.orm.em
      .fork()
      .findOne(AuditLog, { action: 'user.create', resourceId: created.data?.createUser.id });
    expect(audit).toMatchObject({ userId: writerUser?.id, tenantId: acmeId, apiKeyId: null, success: true });
  });

  it("keeps tenants apart: another tenant's user sees none of acme's users", async () => {
    const other = await app.graphql<{
      users: { edges: { node: { username: string; tenant: { name: string } } }[] };
    }>({ query: USERS, key: await op.tokenFor('writer-b') });
    expect(other.errors).toBeUndefined();
    const tenants = new Set(other.data?.users.edges.map((edge) => edge.node.tenant.name));
    expect([...tenants]).toEqual(['globex']);
    const names = other.data?.users.edges.map((edge) => edge.node.username);
    expect(names).not.toContain('colleague-a');
    expect(names).not.toContain('reader.a');
  });

  it('creates a user once when its first requests arrive together', async () => {
    const token = await op.tokenFor('racer');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => app.graphql({ query: VIEWER, key: token })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await users()).filter((user) => user.authProviderId === 'racer')).toHaveLength(1);
  });

  it('makes a platform admin only of the explicit platform-admin role', async () => {
    const { data, errors } = await app.graphql<{
      users: { edges: { node: { tenant: { name: string } | null } }[] };
    }>({
      query: '{ users(first: 100) { edges { node { tenant { name } } } } }',
      key: await op.tokenFor('boss'),
    });
    expect(errors).toBeUndefined();
    const tenants = new Set(data?.users.edges.map((edge) => edge.node.tenant?.name));
    expect(tenants.has('acme') && tenants.has('globex')).toBe(true);
  });

  it('accepts tokens signed with a new key after the provider rotates its keys', async () => {
    const before = await op.tokenFor('writer-a');
    await op.rotateKey();
    const after = await op.tokenFor('writer-a');
    expect(kidOf(after)).not.toBe(kidOf(before));
    for (const token of [after, before]) {
      const { status, errors } = await app.graphql({ query: VIEWER, key: token });
      expect(errors).toBeUndefined();
      expect(status).toBe(200);
    }
  });
});

describe("keys and users: a tenant's ADMIN manages them, a USER does not", () => {
  const CREATE_KEY =
    'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id scopes } } }';
  const REVOKE_KEY = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id isActive } }';
  const UNLOCK_KEY = 'mutation ($id: ID!) { unlockApiKey(id: $id) { id } }';
  const KEYS = '{ apiKeys(first: 100) { edges { node { id name } } } }';

  async function acmeKey(name: string): Promise<string> {
    const created = await app.graphql<{ createApiKey: { apiKey: { id: string } } }>({
      query: CREATE_KEY,
      variables: { input: { name, tenantId: acmeId, scopes: ['READ'] } },
    });
    expect(created.errors).toBeUndefined();
    return created.data?.createApiKey.apiKey.id ?? '';
  }

  it.each(['writer-a', 'service-a'])(
    'refuses %s every key and user change, and changes nothing',
    async (who) => {
      const token = await op.tokenFor(who);
      const keyId = await acmeKey(`kept-by-${who}`);
      const attempts = [
        { query: KEYS },
        { query: CREATE_KEY, variables: { input: { name: `by-${who}`, scopes: ['READ'] } } },
        { query: REVOKE_KEY, variables: { id: keyId } },
        { query: UNLOCK_KEY, variables: { id: keyId } },
        {
          query: CREATE_USER,
          variables: { input: { username: `by-${who}`, email: `by-${who}@example.test` } },
        },
      ];
      for (const attempt of attempts) {
        const answer = await app.graphql({ ...attempt, key: token });
        expect(answer.errors?.[0]?.extensions?.code, attempt.query).toBe('FORBIDDEN');
        expect(answer.errors?.[0]?.message).toMatch(/admins/);
      }
      const em = app.orm.em.fork();
      expect(await em.findOne(ApiKey, { id: keyId })).toMatchObject({ isActive: true });
      expect(await em.count(ApiKey, { name: `by-${who}` })).toBe(0);
      expect(await em.count(User, { username: `by-${who}` })).toBe(0);
      // Refusals are in the audit trail, under the user who tried.
      const [user] = (await users()).filter((candidate) => candidate.authProviderId === who);
      expect(await em.count(AuditLog, { userId: user?.id, success: false })).toBeGreaterThanOrEqual(3);
    },
  );

  it("lets the tenant's ADMIN list, create and revoke its tenant's keys, within its own scopes and tenant", async () => {
    const token = await op.tokenFor('admin-a');
    const created = await app.graphql<{
      createApiKey: { key: string; apiKey: { id: string; scopes: string[] } };
    }>({
      query: CREATE_KEY,
      variables: { input: { name: 'agent-of-admin-a', scopes: ['PROXY', 'READ'] } },
      key: token,
    });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createApiKey.apiKey.id ?? '';
    const listed = await app.graphql<{ apiKeys: { edges: { node: { id: string } }[] } }>({
      query: KEYS,
      key: token,
    });
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.apiKeys.edges.map((edge) => edge.node.id)).toContain(id);
    const revoked = await app.graphql({ query: REVOKE_KEY, variables: { id }, key: token });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data).toEqual({ revokeApiKey: { id, isActive: false } });

    // Not the ADMIN scope, not another tenant.
    const stronger = await app.graphql({
      query: CREATE_KEY,
      variables: { input: { name: 'platform-of-admin-a', scopes: ['ADMIN'] } },
      key: token,
    });
    expect(stronger.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const globex = (await app.orm.em.fork().findOneOrFail(Tenant, { name: 'globex' })).id;
    const elsewhere = await app.graphql({
      query: CREATE_KEY,
      variables: { input: { name: 'globex-of-admin-a', tenantId: globex, scopes: ['READ'] } },
      key: token,
    });
    expect(elsewhere.errors?.[0]?.extensions?.code).toMatch(/^(FORBIDDEN|NOT_FOUND)$/);
    expect(await app.orm.em.fork().count(ApiKey, { name: { $like: '%-of-admin-a' }, isActive: true })).toBe(
      0,
    );
  });

  it('lets a platform admin manage keys of every tenant', async () => {
    const created = await app.graphql({
      query: CREATE_KEY,
      variables: { input: { name: 'acme-of-boss', tenantId: acmeId, scopes: ['READ'] } },
      key: await op.tokenFor('boss'),
    });
    expect(created.errors).toBeUndefined();
  });
});

describe('refused tokens', () => {
  const badKeyAnswer = async () => {
    const answer = await app.graphql({ query: VIEWER, key: 'mcp_not-a-key-at-all-0123456789' });
    return { status: answer.status, errors: answer.errors };
  };

  const claims = (overrides: Record<string, unknown> = {}) => ({
    sub: 'writer-a',
    tenant: 'acme',
    roles: ['user'],
    ...overrides,
  });

  async function signed(
    overrides: Record<string, unknown>,
    options: { issuer?: string; audience?: string; expiresAt?: number; key?: 'provider' | 'stranger' } = {},
  ): Promise<string> {
    const { kid, privateKey } = op.signingKey;
    const key =
      options.key === 'stranger'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : privateKey;
    return new SignJWT(claims(overrides))
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(options.issuer ?? op.issuer)
      .setAudience(options.audience ?? API_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 60)
      .sign(key);
  }

  it('accepts a token signed by the provider key (the forgeries below differ in one thing each)', async () => {
    const { status, errors } = await app.graphql({ query: VIEWER, key: await signed({}) });
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
  });

  it.each([
    ['a forged signature', () => signed({}, { key: 'stranger' })],
    ['an expired token', () => signed({}, { expiresAt: Math.floor(Date.now() / 1000) - 120 })],
    ['another audience', () => signed({}, { audience: 'urn:someone-else' })],
    ['another issuer', () => signed({}, { issuer: 'https://issuer.example.test' })],
    [
      'alg: none',
      async () =>
        new UnsecuredJWT(claims())
          .setIssuer(op.issuer)
          .setAudience(API_AUDIENCE)
          .setExpirationTime('1m')
          .encode(),
    ],
    ['HS256 with the public key as secret', () => hmacWithPublicKey()],
    ['an unknown tenant', () => op.tokenFor('ghost')],
    ['no tenant', () => op.tokenFor('no-tenant')],
    ['a mangled token', async () => `${await op.tokenFor('writer-a')}x`],
  ])('answers %s as a bad key: 401 UNAUTHENTICATED, nothing more', async (_label, token) => {
    const expected = await badKeyAnswer();
    expect(expected.status).toBe(401);
    const answer = await app.graphql({ query: VIEWER, key: await token() });
    expect({ status: answer.status, errors: answer.errors }).toEqual(expected);
  });

  async function hmacWithPublicKey(): Promise<string> {
    const publicPem = op.signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: op.signingKey.kid })
      .setIssuer(op.issuer)
      .setAudience(API_AUDIENCE)
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(publicPem));
  }
});

describe('access tokens on graphql-ws', () => {
  it('authenticates connection_init with a token', async () => {
    const socket = openSocket(app, await op.tokenFor('writer-a'));
    try {
      const result = await socket.execute(VIEWER);
      expect(result).toMatchObject({ data: { viewer: { apiKey: null, tenant: { name: 'acme' } } } });
    } finally {
      socket.close();
    }
  });

  it('refuses a bad token as a bad key (4403)', async () => {
    const socket = openSocket(app, await op.tokenFor('ghost'));
    expect(await socket.acknowledged).toBe(false);
    expect((await socket.closed).code).toBe(4403);
  });

  it('closes the socket when its user is deactivated, and refuses the user from then on', async () => {
    const token = await op.tokenFor('leaver');
    const socket = openSocket(app, token);
    expect(await socket.acknowledged).toBe(true);
    await app.orm.em
      .fork()
      .nativeUpdate(User, { authProvider: op.issuer, authProviderId: 'leaver' }, { isActive: false });
    expect((await socket.closed).code).toBe(4403);
    expect((await app.graphql({ query: VIEWER, key: token })).status).toBe(401);
  });

  it('closes the socket when the token expires', async () => {
    const token = await op.tokenFor('short');
    const socket = openSocket(app, token);
    expect(await socket.acknowledged).toBe(true);
    const opened = Date.now();
    const { code } = await socket.closed;
    expect(code).toBe(4403);
    const expiresAt = expiryOf(token);
    // Closed at the token's expiry (a 2 s token): not long before it, not long after.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
    expect(Date.now() - opened).toBeLessThan(5_000);
  });
});

describe('access tokens on /mcp/{id}', () => {
  let endpoint = '';

  beforeAll(async () => {
    const server = await started(
      startModernServer({
        name: 'maps',
        version: '1.0.0',
        tools: [{ name: 'route', inputSchema: { type: 'object' } }],
      }),
    );
    const writer = await op.tokenFor('writer-a');
    const registered = await app.graphql<{ registerServer: { id: string } }>({
      query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      variables: { input: { name: 'maps', endpointUrl: server.url, transportType: 'STREAMABLE_HTTP' } },
      key: writer,
    });
    expect(registered.errors).toBeUndefined();
    const created = await app.graphql<{ createVirtualServer: { endpointUrl: string } }>({
      query:
        'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { endpointUrl } }',
      variables: {
        input: { name: 'acme-tools', members: [{ serverId: registered.data?.registerServer.id }] },
      },
      key: writer,
    });
    expect(created.errors).toBeUndefined();
    endpoint = created.data?.createVirtualServer.endpointUrl ?? '';
  });

  it('serves a USER (PROXY) with a session tied to the user', async () => {
    const token = await op.tokenFor('writer-a');
    const response = await postMcp(endpoint, token, INITIALIZE_2025);
    expect(response.status).toBe(200);
    const session = response.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    await response.body?.cancel();
    const listed = await postMcp(
      endpoint,
      token,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
    );
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain('route');
    // Another user's token does not find the session.
    const stolen = await postMcp(
      endpoint,
      await op.tokenFor('racer'),
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      {
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
    );
    expect(stolen.status).toBe(404);
    await stolen.body?.cancel();
  });

  it.each(['2025-11-25', '2026-07-28'] as const)(
    'serves the official %s client with a token',
    async (era) => {
      const agent = await connectAgent(era, endpoint, await op.tokenFor('writer-a'));
      try {
        const { tools } = await agent.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(['maps__route']);
        const result = await agent.callTool('maps__route', {});
        expect(result.isError).not.toBe(true);
      } finally {
        await agent.close();
      }
    },
  );

  it('names the caller in the request log: the token user, or the key', async () => {
    const token = await op.tokenFor('writer-a');
    const ids = { graphql: randomUUID(), mcp: randomUUID(), key: randomUUID() };
    await app.graphql({ query: VIEWER, key: token, headers: { 'x-request-id': ids.graphql } });
    const mcp = await postMcp(endpoint, token, INITIALIZE_2025, { 'x-request-id': ids.mcp });
    await mcp.body?.cancel();
    await app.graphql({ query: VIEWER, headers: { 'x-request-id': ids.key } });
    const logged = () =>
      app.orm.em
        .fork()
        .find(RequestLog, { requestId: { $in: Object.values(ids) } }, { orderBy: { path: 'ASC' } });
    await eventually(async () => (await logged()).length === 3, 'the three requests are logged');
    const [user] = (await users()).filter((candidate) => candidate.authProviderId === 'writer-a');
    const rows = new Map((await logged()).map((row) => [row.requestId, row]));
    expect(rows.get(ids.graphql)).toMatchObject({ userId: user?.id, apiKeyId: null, tenantId: acmeId });
    expect(rows.get(ids.mcp)).toMatchObject({
      userId: user?.id,
      apiKeyId: null,
      path: new URL(endpoint).pathname,
    });
    const adminKey = await app.orm.em.fork().findOneOrFail(ApiKey, { name: 'ADMIN_API_KEY' });
    expect(rows.get(ids.key)).toMatchObject({ userId: null, apiKeyId: adminKey.id });
  });

  it('refuses READONLY (no PROXY), hides the server from another tenant, and refuses bad tokens with 401', async () => {
    const reader = await postMcp(endpoint, await op.tokenFor('reader-a'), INITIALIZE_2025);
    expect(reader.status).toBe(403);
    const other = await postMcp(endpoint, await op.tokenFor('writer-b'), INITIALIZE_2025);
    expect(other.status).toBe(404);
    const ghost = await postMcp(endpoint, await op.tokenFor('ghost'), INITIALIZE_2025);
    const badKey = await postMcp(endpoint, 'mcp_not-a-key-at-all-0123456789', INITIALIZE_2025);
    expect(ghost.status).toBe(401);
    expect(await ghost.text()).toBe(await badKey.text());
    await Promise.all([reader, other].map((response) => response.body?.cancel()));
  });
});

describe('rate limits of token users', () => {
  it('counts each user against its own budget', async () => {
    const limited = await startTestApp(db.target, {
      OIDC_ISSUER: op.issuer,
      OIDC_AUDIENCE: API_AUDIENCE,
      OIDC_RATE_LIMIT_PER_HOUR: '2',
    });
    try {
      const token = await op.tokenFor('writer-b');
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await limited.graphql({ query: VIEWER, key: token })).status);
      expect(statuses).toEqual([200, 200, 429]);
      // Another user's budget is untouched.
      expect((await limited.graphql({ query: VIEWER, key: await op.tokenFor('reader-a') })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

function kidOf(token: string): string {
  const [header] = token.split('.');
  return (JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as { kid: string }).kid;
}

function expiryOf(token: string): number {
  const [, payload] = token.split('.');
  return (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { exp: number }).exp * 1000;
}
