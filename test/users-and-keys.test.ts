import { createHash } from 'node:crypto';
import { type DocumentNode, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { User } from '../src/users/user.entity.js';
import {
  ApiKeyListDocument,
  CreateApiKeyDocument,
  CreateUserDocument,
  RevokeApiKeyDocument,
  UnlockApiKeyDocument,
  UserListDocument,
  ViewerDocument,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

type SeededTenant = Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
/** A generated document: its result and variable types ride along (as in TypedDocumentNode). */
type Operation<Result, Variables> = DocumentNode & { __apiType?: (variables: Variables) => Result };

let db: TestDatabase;
let app: TestApp;
let acme: SeededTenant;
let globex: SeededTenant;
/** READ + WRITE keys of each tenant. */
let acmeKey: string;
let globexKey: string;
/** Every plaintext key this file sees, to prove none reaches the audit trail. */
const plaintextKeys: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  acme = await seed(app.orm).tenant('acme');
  globex = await seed(app.orm).tenant('globex');
  acmeKey = (await acme.key()).key;
  globexKey = (await globex.key()).key;
  plaintextKeys.push(acmeKey, globexKey);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/** Executes a generated document; variables are loosely typed because tests send invalid ones on purpose. */
function run<Result>(
  document: Operation<Result, never>,
  variables: Record<string, unknown>,
  key?: string | null,
) {
  return app.graphql<Result>({ query: print(document), variables, key });
}

const errorOf = (response: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  response.errors?.[0]?.extensions;
const em = () => app.orm.em.fork();
const auditRows = (action: string, success?: boolean) =>
  em().find(
    AuditLog,
    { action, ...(success === undefined ? {} : { success }) },
    { orderBy: { createdAt: 'ASC' } },
  );
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const userInput = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  email: `${username}@example.test`,
  ...extra,
});

describe('createUser', () => {
  it('creates a user in the tenant an admin names, normalised, and audits it', async () => {
    const { data, errors } = await run(CreateUserDocument, {
      input: {
        username: '  Ada.Lovelace ',
        email: 'Ada@Example.TEST',
        role: 'SERVICE',
        tenantId: acme.id,
        authProvider: 'github',
        authProviderId: '42',
      },
    });
    expect(errors).toBeUndefined();
    const user = data?.createUser;
    expect(user).toMatchObject({ username: 'ada.lovelace', email: 'ada@example.test', role: 'SERVICE' });
    const stored = await em().findOneOrFail(User, user?.id ?? '');
    expect(stored).toMatchObject({ authProvider: 'github', authProviderId: '42' });
    expect(stored.tenant?.id).toBe(acme.id);
    const [audit] = (await auditRows('user.create', true)).filter((row) => row.resourceId === user?.id);
    expect(audit?.details).toMatchObject({ username: 'ada.lovelace', role: 'SERVICE', tenantId: acme.id });
  });

  it("puts a tenant key's user in the key's own tenant", async () => {
    const { data, errors } = await run(CreateUserDocument, { input: userInput('acme-writer') }, acmeKey);
    expect(errors).toBeUndefined();
    expect(data?.createUser.role).toBe('USER');
    const stored = await em().findOneOrFail(User, data?.createUser.id ?? '');
    expect(stored.tenant?.id).toBe(acme.id);
  });

  it('lets an admin create a platform user (no tenant) and ADMIN users', async () => {
    const { data, errors } = await run(CreateUserDocument, {
      input: userInput('platform-operator', { role: 'ADMIN' }),
    });
    expect(errors).toBeUndefined();
    expect(data?.createUser.role).toBe('ADMIN');
    expect((await em().findOneOrFail(User, data?.createUser.id ?? '')).tenant).toBeNull();
  });

  it.each([
    [{ username: '' }, 'username'],
    [{ username: 'has space' }, 'username'],
    [{ username: '-leading-dash' }, 'username'],
    [{ username: 'ünïcode' }, 'username'],
    [{ username: 'x'.repeat(101) }, 'username'],
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'no-dot@localhost' }, 'email'],
    [{ email: 'two@@example.test' }, 'email'],
    [{ email: 'spa ce@example.test' }, 'email'],
    [{ email: `${'x'.repeat(250)}@example.test` }, 'email'],
    [{ authProvider: 'x'.repeat(51) }, 'authProvider'],
    [{ authProvider: 'git\nhub' }, 'authProvider'],
    [{ authProviderId: 'orphan' }, 'authProviderId'],
  ])('rejects %j with BAD_USER_INPUT naming the field, and stores nothing', async (change, field) => {
    const before = await em().count(User);
    const response = await run(
      CreateUserDocument,
      { input: { ...userInput('valid-name'), ...change } },
      acmeKey,
    );
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await em().count(User)).toBe(before);
  });

  it('rejects an unknown role before execution', async () => {
    const response = await app.graphql({
      query: print(CreateUserDocument),
      variables: { input: userInput('role-less', { role: 'SUPERUSER' }) },
    });
    expect(response.status).toBe(400);
    expect(errorOf(response)?.code).toBe('BAD_USER_INPUT');
  });

  it('answers CONFLICT naming the field for a taken username (any case) or email, and audits the failure', async () => {
    await globex.user('grace');
    const before = await em().count(User);
    const username = await run(
      CreateUserDocument,
      { input: userInput('GRACE', { email: 'other@example.test' }) },
      acmeKey,
    );
    expect(errorOf(username)).toMatchObject({ code: 'CONFLICT', field: 'username' });
    const email = await run(
      CreateUserDocument,
      { input: { username: 'grace2', email: 'Grace@example.test' } },
      acmeKey,
    );
    expect(errorOf(email)).toMatchObject({ code: 'CONFLICT', field: 'email' });
    // The message does not tell another tenant's email address back.
    expect(email.errors?.[0]?.message).not.toContain('grace@example.test');
    expect(await em().count(User)).toBe(before);
    const failed = (await auditRows('user.create', false)).filter((row) => row.details.error === 'CONFLICT');
    expect(failed.map((row) => row.details.username)).toEqual(expect.arrayContaining(['grace', 'grace2']));
    expect(failed.every((row) => row.resourceId === null)).toBe(true);
  });

  it('refuses a tenant key an ADMIN user (FORBIDDEN, audited) or a platform user', async () => {
    const admin = await run(CreateUserDocument, { input: userInput('wannabe', { role: 'ADMIN' }) }, acmeKey);
    expect(errorOf(admin)?.code).toBe('FORBIDDEN');
    const [failure] = (await auditRows('user.create', false)).filter(
      (row) => row.details.username === 'wannabe',
    );
    expect(failure?.details).toMatchObject({ error: 'FORBIDDEN', role: 'ADMIN' });
    const { key: platformWriter } = await seed(app.orm).key([ApiKeyScope.WRITE]);
    const platform = await run(CreateUserDocument, { input: userInput('nobody') }, platformWriter);
    expect(errorOf(platform)?.code).toBe('FORBIDDEN');
    expect(await em().count(User, { username: { $in: ['wannabe', 'nobody'] } })).toBe(0);
  });

  it("answers NOT_FOUND for another tenant's, unknown or malformed tenant ids", async () => {
    const attempts: [string, string | undefined][] = [
      [globex.id, acmeKey],
      ['00000000-0000-4000-8000-000000000000', undefined],
      ['not-a-uuid', undefined],
    ];
    for (const [tenantId, key] of attempts) {
      const response = await run(CreateUserDocument, { input: userInput('lost', { tenantId }) }, key);
      expect(errorOf(response)?.code).toBe('NOT_FOUND');
    }
    expect(await em().count(User, { username: 'lost' })).toBe(0);
    const failures = (await auditRows('user.create', false)).filter((row) => row.details.username === 'lost');
    expect(failures.map((row) => row.details.tenantId)).toEqual([globex.id, attempts[1]?.[0], null]);
  });

  it('needs WRITE', async () => {
    const { key } = await acme.key([ApiKeyScope.READ]);
    const response = await run(CreateUserDocument, { input: userInput('read-only') }, key);
    expect(errorOf(response)?.code).toBe('FORBIDDEN');
  });
});

describe('users', () => {
  it("shows a tenant key only its tenant's users, and an admin every user, with their tenant", async () => {
    await globex.user('globex-only');
    const acmeUsers = await run(UserListDocument, { first: 100 }, acmeKey);
    expect(acmeUsers.errors).toBeUndefined();
    const acmeNodes = acmeUsers.data?.users.edges.map((edge) => edge.node) ?? [];
    expect(acmeUsers.data?.users.totalCount).toBe(await em().count(User, { tenant: acme.id }));
    expect(acmeNodes.length).toBe(acmeUsers.data?.users.totalCount);
    expect(acmeNodes.every((node) => node.tenant?.id === acme.id)).toBe(true);
    expect(acmeNodes.map((node) => node.username)).not.toContain('globex-only');

    const all = await run(UserListDocument, { first: 100 });
    expect(all.data?.users.totalCount).toBe(await em().count(User));
    const byName = new Map(all.data?.users.edges.map((edge) => [edge.node.username, edge.node]));
    expect(byName.get('globex-only')?.tenant).toEqual({ id: globex.id });
    expect(byName.get('platform-operator')?.tenant).toBeNull();
  });

  it('needs READ, and ADMIN to list platform users', async () => {
    const { key } = await acme.key([ApiKeyScope.METRICS]);
    expect(errorOf(await run(UserListDocument, {}, key))?.code).toBe('FORBIDDEN');
    const { key: platformReader } = await seed(app.orm).key([ApiKeyScope.READ]);
    expect(errorOf(await run(UserListDocument, {}, platformReader))?.code).toBe('FORBIDDEN');
  });

  it('pages by username with keyset cursors', async () => {
    const tenant = await seed(app.orm).tenant('paged-users');
    for (const name of ['p-delta', 'p-alpha', 'p-echo', 'p-charlie', 'p-bravo']) await tenant.user(name);
    const { key } = await tenant.key([ApiKeyScope.READ]);
    const page = `query UserPage($first: Int, $after: String) {
      users(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { username } }
      }
    }`;
    type UserPage = {
      users: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { username: string } }[];
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const response: { data: UserPage | null | undefined } = await app.graphql<UserPage>({
        query: page,
        variables: { first: 2, after },
        key,
      });
      const users = response.data?.users;
      expect(users?.totalCount).toBe(5);
      seen.push(...(users?.edges.map((edge) => edge.node.username) ?? []));
      if (!users?.pageInfo.hasNextPage) break;
      after = users.pageInfo.endCursor;
    }
    expect(seen).toEqual(['p-alpha', 'p-bravo', 'p-charlie', 'p-delta', 'p-echo']);
    const bad = await app.graphql({ query: page, variables: { after: 'garbage' }, key });
    expect(errorOf(bad)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('loads the tenants of a page in one batch, not one query per user', async () => {
    const count = async (first: number) => {
      const { statements } = await app.countStatements(() => run(UserListDocument, { first }));
      return statements.length;
    };
    expect(await em().count(User)).toBeGreaterThan(6);
    expect(await count(100)).toBe(await count(1));
  });
});

const keyInput = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  scopes: ['READ'],
  ...extra,
});

describe('createApiKey', () => {
  it('issues a working key, stores only its SHA-256, returns the plaintext once, and audits it', async () => {
    const [server] = await acme.servers([{ name: 'key-target' }]);
    const user = await acme.user('key-owner');
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const { data, errors } = await run(
      CreateApiKeyDocument,
      {
        input: {
          name: '  dashboard  ',
          scopes: ['READ', 'READ', 'WRITE'],
          userId: user.id,
          allowedServers: [server?.id ?? ''],
          rateLimitPerHour: 100,
          rateLimitPerDay: 1000,
          // 127.0.0.1 is where this test calls from: the allow-list is enforced.
          ipWhitelist: ['10.0.0.0/8', '192.168.1.7', '2001:DB8::/32', '::1', '127.0.0.1'],
          expiresAt,
        },
      },
      acmeKey,
    );
    expect(errors).toBeUndefined();
    const created = data?.createApiKey;
    const key = created?.key ?? '';
    plaintextKeys.push(key);
    expect(created?.apiKey).toEqual({
      id: expect.any(String),
      name: 'dashboard',
      prefix: key.slice(0, 12),
      scopes: ['READ', 'WRITE'],
      allowedServers: [server?.id],
      rateLimitPerHour: 100,
      rateLimitPerDay: 1000,
      ipWhitelist: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', '127.0.0.1'],
      expiresAt,
    });
    const stored = await em().findOneOrFail(ApiKey, created?.apiKey.id ?? '');
    expect(stored.keyHash).toBe(sha256(key));
    expect(stored.tenant?.id).toBe(acme.id);
    expect(stored.user?.id).toBe(user.id);

    const viewer = await run(ViewerDocument, {}, key);
    expect(viewer.data?.viewer).toMatchObject({
      apiKey: { id: stored.id, scopes: ['READ', 'WRITE'] },
      user: { id: user.id, username: 'key-owner' },
      tenant: { id: acme.id },
    });

    const [audit] = (await auditRows('api_key.create', true)).filter((row) => row.resourceId === stored.id);
    expect(audit?.details).toMatchObject({ name: 'dashboard', scopes: ['READ', 'WRITE'], tenantId: acme.id });
    expect(JSON.stringify(audit?.details)).not.toContain(key);
    expect(JSON.stringify(audit?.details)).not.toContain(stored.keyHash);
  });

  it('lets an admin create keys for any tenant, platform keys, and ADMIN keys', async () => {
    const forGlobex = await run(CreateApiKeyDocument, {
      input: keyInput('globex by admin', { tenantId: globex.id, scopes: ['ADMIN'] }),
    });
    expect(forGlobex.errors).toBeUndefined();
    const globexAdmin = await em().findOneOrFail(ApiKey, forGlobex.data?.createApiKey.apiKey.id ?? '');
    expect(globexAdmin.tenant?.id).toBe(globex.id);
    const platform = await run(CreateApiKeyDocument, { input: keyInput('platform ops') });
    expect(platform.errors).toBeUndefined();
    const platformKey = await em().findOneOrFail(ApiKey, platform.data?.createApiKey.apiKey.id ?? '');
    expect(platformKey.tenant).toBeNull();
    plaintextKeys.push(forGlobex.data?.createApiKey.key ?? '', platform.data?.createApiKey.key ?? '');
  });

  it.each([
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ scopes: [] }, 'scopes'],
    [{ rateLimitPerHour: 0 }, 'rateLimitPerHour'],
    [{ rateLimitPerDay: -5 }, 'rateLimitPerDay'],
    [{ ipWhitelist: [] }, 'ipWhitelist'],
    [{ ipWhitelist: ['999.1.1.1'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['10.0.0.0/33'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['::1/129'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['10.0.0.0/'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['10.0.0.0/8/8'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['10.0.0.0/-1'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['fe80::1%eth0'] }, 'ipWhitelist'],
    [{ ipWhitelist: ['host.example.test'] }, 'ipWhitelist'],
    [{ allowedServers: [] }, 'allowedServers'],
    [{ expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'expiresAt'],
  ])('rejects %j with BAD_USER_INPUT naming the field, and issues nothing', async (change, field) => {
    const before = await em().count(ApiKey);
    const response = await run(
      CreateApiKeyDocument,
      { input: { ...keyInput('invalid'), ...change } },
      acmeKey,
    );
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await em().count(ApiKey)).toBe(before);
  });

  it('never lets a tenant key mint an ADMIN key, nor grant scopes it lacks (FORBIDDEN, audited)', async () => {
    const before = await em().count(ApiKey);
    const admin = await run(
      CreateApiKeyDocument,
      { input: keyInput('escalate', { scopes: ['ADMIN'] }) },
      acmeKey,
    );
    expect(errorOf(admin)?.code).toBe('FORBIDDEN');
    const proxy = await run(
      CreateApiKeyDocument,
      { input: keyInput('wider', { scopes: ['PROXY'] }) },
      acmeKey,
    );
    expect(errorOf(proxy)?.code).toBe('FORBIDDEN');
    expect(await em().count(ApiKey)).toBe(before);
    const failures = (await auditRows('api_key.create', false)).filter(
      (row) => row.details.error === 'FORBIDDEN',
    );
    expect(failures.map((row) => row.details.name)).toEqual(expect.arrayContaining(['escalate', 'wider']));
  });

  it('refuses non-admin platform keys and keys without WRITE', async () => {
    const { key: platformWriter } = await seed(app.orm).key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    const { key: reader } = await acme.key([ApiKeyScope.READ]);
    for (const key of [platformWriter, reader]) {
      expect(errorOf(await run(CreateApiKeyDocument, { input: keyInput('nope') }, key))?.code).toBe(
        'FORBIDDEN',
      );
    }
  });

  it("answers NOT_FOUND for another tenant's tenant, user or servers, and for unknown ids", async () => {
    const [globexServer] = await globex.servers([{ name: 'globex-private' }]);
    const globexUser = await globex.user('globex-user');
    const [acmeServer] = await acme.servers([{ name: 'acme-only' }]);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const attempts: [Record<string, unknown>, string | undefined][] = [
      [{ tenantId: globex.id }, acmeKey],
      [{ tenantId: unknown }, undefined],
      [{ userId: globexUser.id }, acmeKey],
      [{ userId: unknown }, acmeKey],
      [{ userId: 'not-a-uuid' }, acmeKey],
      [{ allowedServers: [acmeServer?.id, globexServer?.id] }, acmeKey],
      [{ allowedServers: [unknown] }, acmeKey],
      [{ allowedServers: ['not-a-uuid'] }, acmeKey],
      // An admin too: the servers must belong to the key's tenant.
      [{ tenantId: acme.id, allowedServers: [globexServer?.id] }, undefined],
      [{ tenantId: acme.id, userId: globexUser.id }, undefined],
    ];
    const before = await em().count(ApiKey);
    for (const [change, key] of attempts) {
      const response = await run(CreateApiKeyDocument, { input: keyInput('lost', change) }, key);
      expect(errorOf(response)?.code, JSON.stringify(change)).toBe('NOT_FOUND');
    }
    expect(await em().count(ApiKey)).toBe(before);
  });

  it('refuses a deactivated user', async () => {
    const retired = await acme.user('retired', { isActive: false });
    const response = await run(
      CreateApiKeyDocument,
      { input: keyInput('for retired', { userId: retired.id }) },
      acmeKey,
    );
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });
});

describe('apiKeys', () => {
  it("shows a tenant key only its tenant's keys, and an admin every key, never a hash", async () => {
    const acmeList = await run(ApiKeyListDocument, { first: 100 }, acmeKey);
    expect(acmeList.errors).toBeUndefined();
    const acmeIds = acmeList.data?.apiKeys.edges.map((edge) => edge.node.id) ?? [];
    const acmeStored = await em().find(ApiKey, { tenant: acme.id });
    expect(acmeList.data?.apiKeys.totalCount).toBe(acmeStored.length);
    expect(new Set(acmeIds)).toEqual(new Set(acmeStored.map((key) => key.id)));

    const globexList = await run(ApiKeyListDocument, { first: 100 }, globexKey);
    const globexIds = globexList.data?.apiKeys.edges.map((edge) => edge.node.id) ?? [];
    expect(globexIds.some((id) => acmeIds.includes(id))).toBe(false);
    expect(globexList.data?.apiKeys.totalCount).toBe(await em().count(ApiKey, { tenant: globex.id }));

    const all = await run(ApiKeyListDocument, { first: 100 });
    expect(all.data?.apiKeys.totalCount).toBe(await em().count(ApiKey));
    const hashes = (await em().find(ApiKey, {})).map((key) => key.keyHash);
    const body = JSON.stringify([acmeList.data, all.data]);
    for (const hash of hashes) expect(body).not.toContain(hash);
  });

  it('has no keyHash field to ask for', async () => {
    const { data } = await app.graphql<{ __type: { fields: { name: string }[] } }>({
      query: '{ __type(name: "ApiKey") { fields { name } } }',
    });
    const fields = data?.__type.fields.map((field) => field.name) ?? [];
    expect(fields).toContain('prefix');
    expect(fields.some((name) => /hash/i.test(name))).toBe(false);
  });

  it('needs WRITE, and ADMIN for platform keys', async () => {
    const { key: reader } = await acme.key([ApiKeyScope.READ]);
    const { key: platformWriter } = await seed(app.orm).key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    for (const key of [reader, platformWriter]) {
      expect(errorOf(await run(ApiKeyListDocument, {}, key))?.code).toBe('FORBIDDEN');
    }
  });

  it('pages newest first with keyset cursors', async () => {
    const tenant = await seed(app.orm).tenant('paged-keys');
    const { key } = await tenant.key();
    for (let i = 0; i < 4; i++) await tenant.key([ApiKeyScope.READ]);
    const page = `query ApiKeyPage($first: Int, $after: String) {
      apiKeys(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id createdAt } }
      }
    }`;
    type ApiKeyPage = {
      apiKeys: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { id: string; createdAt: string } }[];
      };
    };
    const seen: { id: string; createdAt: string }[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const response: { data: ApiKeyPage | null | undefined } = await app.graphql<ApiKeyPage>({
        query: page,
        variables: { first: 2, after },
        key,
      });
      const keys = response.data?.apiKeys;
      expect(keys?.totalCount).toBe(5);
      seen.push(...(keys?.edges.map((edge) => edge.node) ?? []));
      if (!keys?.pageInfo.hasNextPage) break;
      after = keys.pageInfo.endCursor;
    }
    expect(seen.length).toBe(5);
    expect(new Set(seen.map((node) => node.id)).size).toBe(5);
    const times = seen.map((node) => node.createdAt);
    expect(times).toEqual([...times].sort().reverse());
  });
});

describe('revokeApiKey and unlockApiKey', () => {
  it('revokes a key: its next request is UNAUTHENTICATED, and the revocation is audited', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    expect((await run(ViewerDocument, {}, key)).errors).toBeUndefined();
    const { data, errors } = await run(RevokeApiKeyDocument, { id }, acmeKey);
    expect(errors).toBeUndefined();
    expect(data?.revokeApiKey).toEqual({ id, isActive: false });
    const after = await run(ViewerDocument, {}, key);
    expect(after.status).toBe(401);
    expect(errorOf(after)?.code).toBe('UNAUTHENTICATED');
    const [audit] = (await auditRows('api_key.revoke', true)).filter((row) => row.resourceId === id);
    expect(audit?.apiKeyId).not.toBeNull();
  });

  it('unlocks a locked key, resetting its failed attempts, and audits it', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ], { isLocked: true });
    await em().nativeUpdate(ApiKey, id, { failedAttempts: 5 });
    expect(errorOf(await run(ViewerDocument, {}, key))?.code).toBe('UNAUTHENTICATED');
    const { data, errors } = await run(UnlockApiKeyDocument, { id }, acmeKey);
    expect(errors).toBeUndefined();
    expect(data?.unlockApiKey).toEqual({ id, isLocked: false, failedAttempts: 0 });
    expect((await run(ViewerDocument, {}, key)).errors).toBeUndefined();
    expect((await auditRows('api_key.unlock', true)).some((row) => row.resourceId === id)).toBe(true);
  });

  it('keeps a revoked key revoked when it is unlocked', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ], { isActive: false, isLocked: true });
    expect((await run(UnlockApiKeyDocument, { id }, acmeKey)).errors).toBeUndefined();
    expect(errorOf(await run(ViewerDocument, {}, key))?.code).toBe('UNAUTHENTICATED');
  });

  it("answers NOT_FOUND for another tenant's key and unknown ids, changes nothing, audits the failure", async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ], { isLocked: true });
    const documents: Operation<unknown, never>[] = [RevokeApiKeyDocument, UnlockApiKeyDocument];
    for (const document of documents) {
      for (const target of [id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const response = await run(document, { id: target }, globexKey);
        expect(errorOf(response)?.code).toBe('NOT_FOUND');
      }
    }
    const stored = await em().findOneOrFail(ApiKey, id);
    expect(stored).toMatchObject({ isActive: true, isLocked: true });
    const failed = await em().find(AuditLog, { resourceId: id, success: false });
    expect(failed.map((row) => row.action).sort()).toEqual(['api_key.revoke', 'api_key.unlock']);
    expect(failed.every((row) => row.details.error === 'NOT_FOUND')).toBe(true);
    const malformed = await auditRows('api_key.revoke', false);
    expect(malformed.some((row) => row.resourceId === null)).toBe(true);
    plaintextKeys.push(key);
  });

  it('leaves keys with the ADMIN scope to platform admins, and platform keys out of tenant reach', async () => {
    const created = await run(CreateApiKeyDocument, {
      input: keyInput('acme admin', { tenantId: acme.id, scopes: ['ADMIN'] }),
    });
    const adminKeyId = created.data?.createApiKey.apiKey.id ?? '';
    plaintextKeys.push(created.data?.createApiKey.key ?? '');
    expect(errorOf(await run(RevokeApiKeyDocument, { id: adminKeyId }, acmeKey))?.code).toBe('FORBIDDEN');
    const platform = await seed(app.orm).key([ApiKeyScope.READ]);
    expect(errorOf(await run(RevokeApiKeyDocument, { id: platform.id }, acmeKey))?.code).toBe('NOT_FOUND');
    expect((await run(RevokeApiKeyDocument, { id: adminKeyId })).data?.revokeApiKey.isActive).toBe(false);
  });

  it('needs WRITE', async () => {
    const { key, id } = await acme.key([ApiKeyScope.READ]);
    expect(errorOf(await run(RevokeApiKeyDocument, { id }, key))?.code).toBe('FORBIDDEN');
    expect((await em().findOneOrFail(ApiKey, id)).isActive).toBe(true);
  });
});

describe('audit trail', () => {
  it('never holds a plaintext key or a key hash', async () => {
    const rows = await em().find(AuditLog, {});
    expect(rows.length).toBeGreaterThan(10);
    const trail = JSON.stringify(rows.map((row) => row.details));
    const hashes = (await em().find(ApiKey, {})).map((key) => key.keyHash);
    for (const secret of [...plaintextKeys.filter(Boolean), ...hashes]) expect(trail).not.toContain(secret);
  });
});
