import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { serverNamePart } from '../src/registry-api/server-json.js';
import { registryNamespaceOf as tenantNamespace } from '../src/tenants/registry-namespace.js';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './support/database.js';
import {
  closedAfterAll,
  fullCatalog,
  startSseServer,
  startStreamableHttpServer,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';

// The official server.json schema, vendored (test/fixtures/registry-api/README.md says from where).
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const validServerJson = ajv.compile(
  JSON.parse(readFileSync(new URL('./fixtures/registry-api/server.schema.json', import.meta.url), 'utf8')),
);

const OFFICIAL = 'io.modelcontextprotocol.registry/official';
const OURS = 'dev.mcp-registry-gateway/server';

interface ServerResponse {
  server: {
    name: string;
    version: string;
    description: string;
    title?: string;
    remotes: {
      type: string;
      url: string;
      headers?: { name: string; isSecret?: boolean; isRequired?: boolean }[];
    }[];
  };
  _meta: Record<string, Record<string, unknown>>;
}
interface ServerList {
  servers: ServerResponse[];
  metadata: { nextCursor?: string; count: number };
}

let db: TestDatabase;
let app: TestApp;
let readKey: string;
let limitedKey: string;
let proxyKey: string;
let writeKey: string;
/** Registry API names: names that are not valid name parts get the first 8 characters of their row's id. */
let ACME: string;
let SEARCH: string;
let TOOLBOX: string;
let searchId: string;
let sseId: string;
let virtualId: string;
const closeAfterAll = closedAfterAll();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const acme = await seed(app.orm).tenant('Acme Corp');
  const globex = await seed(app.orm).tenant('globex');
  const tenantKey = (await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
  writeKey = tenantKey;
  readKey = (await acme.key([ApiKeyScope.READ])).key;
  proxyKey = (await acme.key([ApiKeyScope.PROXY])).key;
  const register = async (key: string, input: Record<string, unknown>) => {
    const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
      query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      variables: { input },
      key,
    });
    expect(errors).toBeUndefined();
    return data?.registerServer.id ?? '';
  };
  const upstream = await closeAfterAll(startStreamableHttpServer({ ...fullCatalog, version: '1.4.2' }));
  const sse = await closeAfterAll(startSseServer({ ...fullCatalog, name: 'sse-fixture', version: '0.9.0' }));
  searchId = await register(tenantKey, {
    name: 'Search Service',
    description: 'Searches the documents',
    endpointUrl: upstream.url,
    transportType: 'STREAMABLE_HTTP',
    headers: { Authorization: 'Bearer upstream-secret-value', 'X-Team': 'team-secret-value' },
  });
  sseId = await register(tenantKey, { name: 'legacy-sse', endpointUrl: sse.url, transportType: 'SSE' });
  const globexKey = (await globex.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
  await register(globexKey, {
    name: 'globex-search',
    endpointUrl: upstream.url,
    transportType: 'STREAMABLE_HTTP',
  });
  const created = await app.graphql<{ createVirtualServer: { id: string } }>({
    query: 'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id } }',
    variables: { input: { name: 'Agents Toolbox', members: [{ serverId: searchId }] } },
    key: tenantKey,
  });
  expect(created.errors).toBeUndefined();
  virtualId = created.data?.createVirtualServer.id ?? '';
  limitedKey = (await acme.key([ApiKeyScope.READ], { allowedServers: [sseId] })).key;
  ACME = `local.mcp-gateway.acme-corp-${acme.id.slice(0, 8)}`;
  SEARCH = `${ACME}/search-service-${searchId.slice(0, 8)}`;
  TOOLBOX = `${ACME}.virtual/agents-toolbox-${virtualId.slice(0, 8)}`;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function get<T>(
  path: string,
  key: string | null = readKey,
): Promise<{ status: number; body: T; headers: Headers; text: string }> {
  const response = await fetch(`${app.origin}${path}`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as T, headers: response.headers, text };
}

function expectValid(answers: readonly ServerResponse[]): void {
  for (const answer of answers) {
    const valid = validServerJson(answer.server);
    expect(validServerJson.errors ?? [], answer.server.name).toEqual([]);
    expect(valid).toBe(true);
  }
}

describe('GET /v0.1/servers', () => {
  it('lists the tenant registered HTTP/SSE servers and virtual servers as server.json, nothing of another tenant', async () => {
    const { status, body, text } = await get<ServerList>('/v0.1/servers');
    expect(status).toBe(200);
    expect(body.servers.map((answer) => answer.server.name).sort()).toEqual([
      TOOLBOX,
      `${ACME}/legacy-sse`,
      SEARCH,
    ]);
    expect(body.metadata).toEqual({ count: 3 });
    expectValid(body.servers);
    const search = body.servers.find((answer) => answer.server.name === SEARCH);
    expect(search?.server).toMatchObject({
      version: '1.4.2',
      description: 'Searches the documents',
      remotes: [
        {
          type: 'streamable-http',
          headers: [
            { name: 'Authorization', isSecret: true, isRequired: true },
            { name: 'X-Team', isSecret: true, isRequired: true },
          ],
        },
      ],
    });
    expect(search?._meta[OFFICIAL]).toMatchObject({ status: 'active', isLatest: true });
    expect(search?._meta[OURS]).toMatchObject({ kind: 'registered', id: searchId, circuitState: 'CLOSED' });
    expect(search?._meta[OURS]?.toolCount).toBe(fullCatalog.tools?.length);
    // Header values never leave the registry.
    expect(text).not.toContain('upstream-secret-value');
    expect(text).not.toContain('team-secret-value');
    const sse = body.servers.find((answer) => answer.server.name === `${ACME}/legacy-sse`);
    expect(sse?.server).toMatchObject({ version: '0.9.0', remotes: [{ type: 'sse' }] });
    expect(sse?.server.remotes[0]?.headers).toBeUndefined();
    const virtual = body.servers.find((answer) => answer.server.name === TOOLBOX);
    expect(virtual?.server.remotes).toEqual([
      {
        type: 'streamable-http',
        url: `${app.origin}/mcp/${virtualId}`,
        headers: [expect.objectContaining({ name: 'Authorization', isSecret: true, isRequired: true })],
      },
    ]);
    expect(virtual?._meta[OURS]).toMatchObject({ kind: 'virtual', id: virtualId, memberCount: 1 });
  });

  it('pages through every server with cursors, at a constant number of statements per page', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const { status, body } = await get<ServerList>(`/v0.1/servers?limit=1${query}`);
      expect(status).toBe(200);
      expect(body.metadata.count).toBe(body.servers.length);
      expectValid(body.servers);
      seen.push(...body.servers.map((answer) => answer.server.name));
      cursor = body.metadata.nextCursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual([TOOLBOX, `${ACME}/legacy-sse`, SEARCH]);
    // A tenant of many servers with tools, never discovered (their version is "unknown").
    const bulk = await seed(app.orm).tenant('bulk');
    const bulkKey = (await bulk.key([ApiKeyScope.READ])).key;
    await bulk.servers(
      Array.from({ length: 40 }, (_, index) => ({
        name: `server-${index}`,
        tools: ['search', `tool-${index}`],
      })),
    );
    const statementsOf = async (limit: number) => {
      const { result, statements } = await app.countStatements(() =>
        get<ServerList>(`/v0.1/servers?limit=${limit}`, bulkKey),
      );
      expect(result.body.servers).toHaveLength(limit);
      expectValid(result.body.servers);
      expect(result.body.servers[0]?.server.version).toBe('unknown');
      expect(result.body.servers[0]?._meta[OURS]?.toolCount).toBe(2);
      return statements.filter((statement) => !statement.includes('api_keys')).length;
    };
    expect(await statementsOf(40)).toBe(await statementsOf(2));
  });

  it('searches by name, filters by version and by updated_since', async () => {
    // A substring of the server.json name, namespace and all, case aside (the OpenAPI document's "substring
    // match"); LIKE wildcards are themselves.
    const searched = async (text: string) =>
      (await get<ServerList>(`/v0.1/servers?search=${encodeURIComponent(text)}`)).body.servers
        .map((answer) => answer.server.name)
        .sort();
    expect(await searched('SEARCH')).toEqual([SEARCH]);
    expect(await searched(`${ACME.slice(-12).toUpperCase()}/legacy`)).toEqual([`${ACME}/legacy-sse`]);
    expect(await searched('.virtual/')).toEqual([TOOLBOX]);
    expect(await searched(ACME)).toEqual([TOOLBOX, `${ACME}/legacy-sse`, SEARCH].sort());
    expect(await searched('%')).toEqual([]);
    expect(await searched('globex')).toEqual([]);
    const tooLong = await get<{ error: string }>(`/v0.1/servers?search=${'a'.repeat(201)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatch(/200 characters/);
    const exact = await get<ServerList>('/v0.1/servers?version=0.9.0');
    expect(exact.body.servers.map((answer) => answer.server.name)).toEqual([`${ACME}/legacy-sse`]);
    const latest = await get<ServerList>('/v0.1/servers?version=latest');
    expect(latest.body.servers).toHaveLength(3);

    const since = new Date(Date.now() - 1).toISOString();
    const updated = await app.graphql({
      query:
        'mutation ($id: ID!) { updateServer(id: $id, input: { description: "Finds documents" }) { id } }',
      variables: { id: sseId },
      key: ADMIN_KEY,
    });
    expect(updated.errors).toBeUndefined();
    const changed = await get<ServerList>(`/v0.1/servers?updated_since=${encodeURIComponent(since)}`);
    expect(changed.status).toBe(200);
    expect(changed.body.servers.map((answer) => [answer.server.name, answer.server.description])).toEqual([
      [`${ACME}/legacy-sse`, 'Finds documents'],
    ]);
  });

  it('answers bad parameters with 400 and { error }', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=ten',
      'cursor=not-a-cursor',
      'updated_since=yesterday',
      'updated_since=2025-08-07',
      'include_deleted=maybe',
      'version=',
    ]) {
      const { status, body } = await get<{ error: string }>(`/v0.1/servers?${query}`);
      expect(status, query).toBe(400);
      expect(typeof body.error, query).toBe('string');
    }
  });

  it('needs a key with READ: 401 with a Bearer challenge without one, 403 without READ', async () => {
    const anonymous = await get<{ error: string }>('/v0.1/servers', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(typeof anonymous.body.error).toBe('string');
    const wrongKey = await get<{ error: string }>('/v0.1/servers', 'not-a-key');
    expect(wrongKey.status).toBe(401);
    const proxy = await get<{ error: string }>('/v0.1/servers', proxyKey);
    expect(proxy.status).toBe(403);
    expect(proxy.body.error).toMatch(/READ/);
  });

  it("shows a key limited to some servers only those (and its tenant's virtual servers)", async () => {
    const { body } = await get<ServerList>('/v0.1/servers', limitedKey);
    expect(body.servers.map((answer) => answer.server.name).sort()).toEqual([TOOLBOX, `${ACME}/legacy-sse`]);
    const hidden = await get<{ error: string }>(
      `/v0.1/servers/${encodeURIComponent(SEARCH)}/versions`,
      limitedKey,
    );
    expect(hidden.status).toBe(404);
  });
});

describe('an inactive virtual server', () => {
  it('is listed, as deleted, only with include_deleted (always with updated_since)', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const retired = await app.graphql<{ createVirtualServer: { id: string } }>({
      query: 'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id } }',
      variables: { input: { name: 'retired', isActive: false, members: [{ serverId: sseId }] } },
      key: writeKey,
    });
    expect(retired.errors).toBeUndefined();
    const name = `${ACME}.virtual/retired`;
    const names = (list: ServerList) => list.servers.map((answer) => answer.server.name);
    expect(names((await get<ServerList>('/v0.1/servers')).body)).not.toContain(name);
    const withDeleted = await get<ServerList>('/v0.1/servers?include_deleted=true');
    const deleted = withDeleted.body.servers.find((answer) => answer.server.name === name);
    expect(deleted?._meta[OFFICIAL]).toMatchObject({ status: 'deleted' });
    expectValid(withDeleted.body.servers);
    const changed = await get<ServerList>(`/v0.1/servers?updated_since=${encodeURIComponent(since)}`);
    expect(names(changed.body)).toEqual([name]);
    const path = `/v0.1/servers/${encodeURIComponent(name)}/versions`;
    expect((await get(path)).status).toBe(404);
    expect((await get(`${path}?include_deleted=true`)).status).toBe(200);
    await app.graphql({
      query: 'mutation ($id: ID!) { deleteVirtualServer(id: $id) }',
      variables: { id: retired.data?.createVirtualServer.id },
      key: writeKey,
    });
  });
});

describe('a server that announces a new version', () => {
  it('lists the new one as the latest and keeps the old one listed', async () => {
    const tenant = await seed(app.orm).tenant('versioned');
    const key = (await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
    const upstream = await closeAfterAll(startStreamableHttpServer({ ...fullCatalog, version: '1.0.0' }));
    const registered = await app.graphql<{ registerServer: { id: string } }>({
      query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      variables: { input: { name: 'evolving', endpointUrl: upstream.url, transportType: 'STREAMABLE_HTTP' } },
      key,
    });
    expect(registered.errors).toBeUndefined();
    const since = new Date(Date.now() - 1).toISOString();
    await upstream.change({ version: '2.0.0' }, []);
    const refreshed = await app.graphql({
      query: 'mutation ($id: ID!) { refreshServerCapabilities(id: $id) { id } }',
      variables: { id: registered.data?.registerServer.id },
      key,
    });
    expect(refreshed.errors).toBeUndefined();
    const versionsOf = (list: ServerList) =>
      list.servers.map((answer) => [answer.server.version, answer._meta[OFFICIAL]?.isLatest]);

    const all = await get<ServerList>('/v0.1/servers', key);
    expectValid(all.body.servers);
    expect(versionsOf(all.body).sort()).toEqual([
      ['1.0.0', false],
      ['2.0.0', true],
    ]);
    const searched = await get<ServerList>('/v0.1/servers?search=EVOLVING', key);
    expect(versionsOf(searched.body).sort()).toEqual([
      ['1.0.0', false],
      ['2.0.0', true],
    ]);
    expect(versionsOf((await get<ServerList>('/v0.1/servers?version=latest', key)).body)).toEqual([
      ['2.0.0', true],
    ]);
    expect(versionsOf((await get<ServerList>('/v0.1/servers?version=1.0.0', key)).body)).toEqual([
      ['1.0.0', false],
    ]);
    // The old version stopped being the latest: a change updated_since shows.
    const changed = await get<ServerList>(`/v0.1/servers?updated_since=${encodeURIComponent(since)}`, key);
    expect(versionsOf(changed.body).sort()).toEqual([
      ['1.0.0', false],
      ['2.0.0', true],
    ]);

    const name = encodeURIComponent('local.mcp-gateway.versioned/evolving');
    const versions = await get<ServerList>(`/v0.1/servers/${name}/versions`, key);
    expect(versionsOf(versions.body)).toEqual([
      ['2.0.0', true],
      ['1.0.0', false],
    ]);
    expectValid(versions.body.servers);
    const old = await get<ServerResponse>(`/v0.1/servers/${name}/versions/1.0.0`, key);
    expect(old.status).toBe(200);
    expect(old.body._meta[OFFICIAL]).toMatchObject({ isLatest: false });
    const latest = await get<ServerResponse>(`/v0.1/servers/${name}/versions/latest`, key);
    expect(latest.body.server.version).toBe('2.0.0');
  });
});

describe('GET /v0.1/servers/{serverName}/versions', () => {
  const name = () => encodeURIComponent(SEARCH);

  it('lists the versions of a server named URL-encoded, and answers one version or latest', async () => {
    const versions = await get<ServerList>(`/v0.1/servers/${name()}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.servers.map((answer) => answer.server.version)).toEqual(['1.4.2']);
    expect(versions.body.metadata.count).toBe(1);
    expectValid(versions.body.servers);
    for (const version of ['latest', '1.4.2']) {
      const one = await get<ServerResponse>(`/v0.1/servers/${name()}/versions/${version}`);
      expect(one.status, version).toBe(200);
      expect(one.body.server).toMatchObject({ name: SEARCH, version: '1.4.2' });
      expectValid([one.body]);
    }
    const virtual = await get<ServerResponse>(`/v0.1/servers/${encodeURIComponent(TOOLBOX)}/versions/latest`);
    expect(virtual.status).toBe(200);
    expect(virtual.body.server.remotes[0]?.url).toBe(`${app.origin}/mcp/${virtualId}`);
  });

  it('answers 404 with { error } for an unknown name, another tenant server and an unknown version', async () => {
    for (const path of [
      `/v0.1/servers/${encodeURIComponent(`${ACME}/nope`)}/versions`,
      `/v0.1/servers/${encodeURIComponent('local.mcp-gateway.globex/globex-search')}/versions`,
      `/v0.1/servers/no-slash/versions/latest`,
      `/v0.1/servers/${name()}/versions/9.9.9`,
    ]) {
      const { status, body } = await get<{ error: string }>(path);
      expect(status, path).toBe(404);
      expect(typeof body.error, path).toBe('string');
    }
    // A platform admin reaches every tenant's servers.
    const admin = await get<ServerList>(
      `/v0.1/servers/${encodeURIComponent('local.mcp-gateway.globex/globex-search')}/versions`,
      ADMIN_KEY,
    );
    expect(admin.status).toBe(200);
  });
});

describe('Registry API names', () => {
  it('keep a valid name as it is and make any other valid and unique with its id', () => {
    const id = '0123abcd-0000-4000-8000-000000000000';
    const other = 'fedc9876-0000-4000-8000-000000000000';
    expect(serverNamePart({ id, name: 'weather.v2_beta-1' })).toBe('weather.v2_beta-1');
    expect(serverNamePart({ id, name: 'Search Service' })).toBe('search-service-0123abcd');
    expect(serverNamePart({ id: other, name: 'search  service' })).toBe('search-service-fedc9876');
    expect(serverNamePart({ id, name: 'x'.repeat(65) })).toBe(`${'x'.repeat(55)}-0123abcd`);
    expect(tenantNamespace('com.example', { id, name: 'acme' })).toBe('com.example.acme');
    expect(tenantNamespace('com.example', { id, name: 'Acme Corp' })).toBe('com.example.acme-corp-0123abcd');
    expect(tenantNamespace('com.example', { id, name: '???' })).toBe('com.example.0123abcd');
    const longest = `${'b'.repeat(60)}.${tenantNamespace('', { id, name: 'T'.repeat(300) }).slice(1)}.virtual/${serverNamePart({ id, name: 'S'.repeat(300) })}`;
    expect(longest.length).toBeLessThanOrEqual(200);
    expect(validServerJson({ name: longest, description: 'd', version: '1' })).toBe(true);
  });
});

describe('updated_since while another transaction is open', () => {
  // Two connections: PostgreSQL only (PGlite has one, so no transaction is ever open beside a read).
  it.runIf(postgresAvailable())('misses no change that commits after a later change was listed', async () => {
    const names = (list: ServerList) => list.servers.map((answer) => answer.server.name);
    // What a client resumes from: the latest updatedAt it was shown.
    const resumeFrom = (list: ServerList, since: string) =>
      new Date(
        Math.max(
          Date.parse(since),
          ...list.servers.map((answer) => Date.parse(String(answer._meta[OFFICIAL]?.updatedAt))),
        ),
      ).toISOString();
    const changedSince = (since: string) =>
      get<ServerList>(`/v0.1/servers?updated_since=${encodeURIComponent(since)}`);
    let since = resumeFrom((await changedSince('2000-01-01T00:00:00Z')).body, '2000-01-01T00:00:00Z');
    if (db.target.kind !== 'postgres') throw new Error('PostgreSQL only');
    const open = new pg.Client({ connectionString: db.target.url });
    await open.connect();
    try {
      // Changed first, committed last. Known words only: a new word's vocabulary row would make the second
      // change wait for this transaction.
      await open.query('begin');
      await open.query(
        `update mcp_servers set description = 'Finds the documents', updated_at = now() where id = $1`,
        [searchId],
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await app.graphql({
        query:
          'mutation ($id: ID!) { updateServer(id: $id, input: { description: "Searches documents" }) { id } }',
        variables: { id: sseId },
        key: ADMIN_KEY,
      });
      expect(second.errors).toBeUndefined();
      const during = await changedSince(since);
      expect(during.status).toBe(200);
      // Not yet: listing the second change now would let a client resume past the first.
      expect(names(during.body)).toEqual([]);
      since = resumeFrom(during.body, since);
      await open.query('commit');
      const after = await changedSince(since);
      expect(names(after.body).sort()).toEqual([`${ACME}/legacy-sse`, SEARCH]);
      const described = after.body.servers.map((answer) => answer.server.description).sort();
      expect(described).toEqual(['Finds the documents', 'Searches documents']);
    } finally {
      await open.query('rollback').catch(() => undefined);
      await open.end();
    }
  });
});

describe('a tenant registry namespace', () => {
  const createTenant = (input: Record<string, unknown>) =>
    app.graphql<{ createTenant: { id: string; registryNamespace: string } }>({
      query: 'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { id registryNamespace } }',
      variables: { input },
    });
  const updateTenant = (id: string, input: Record<string, unknown>) =>
    app.graphql<{ updateTenant: { registryNamespace: string } }>({
      query:
        'mutation ($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { registryNamespace } }',
      variables: { id, input },
    });

  it('is chosen at creation, names the servers, is unique, and falls back to the derived one', async () => {
    const created = await createTenant({ name: 'Initech', registryNamespace: 'com.initech.tools' });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createTenant.id ?? '';
    expect(created.data?.createTenant.registryNamespace).toBe('com.initech.tools');
    const tenant = await seed(app.orm).tenantById(id);
    const key = (await tenant.key([ApiKeyScope.READ])).key;
    await tenant.servers([{ name: 'printer', tools: ['print'] }]);
    const listed = await get<ServerList>('/v0.1/servers', key);
    expect(listed.body.servers.map((answer) => answer.server.name)).toEqual(['com.initech.tools/printer']);
    expectValid(listed.body.servers);
    const byName = await get<ServerList>(
      `/v0.1/servers/${encodeURIComponent('com.initech.tools/printer')}/versions`,
      key,
    );
    expect(byName.status).toBe(200);
    expect((await get<ServerList>('/v0.1/servers?search=initech.tools/', key)).body.metadata.count).toBe(1);

    const taken = await createTenant({ name: 'Initech 2', registryNamespace: 'com.initech.tools' });
    expect(taken.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const takenByUpdate = await updateTenant((await seed(app.orm).tenant('initrode')).id, {
      registryNamespace: 'com.initech.tools',
    });
    expect(takenByUpdate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    for (const bad of [
      'initech',
      'Com.Initech',
      'com..initech',
      'com.-initech',
      'com.initech.virtual',
      'local.mcp-gateway.initech',
      `${'a'.repeat(63)}.${'b'.repeat(63)}`,
    ]) {
      const refused = await createTenant({ name: `bad ${bad}`, registryNamespace: bad });
      expect(refused.errors?.[0]?.extensions?.code, bad).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.extensions?.field, bad).toBe('registryNamespace');
    }

    const moved = await updateTenant(id, { registryNamespace: 'com.initech.printing' });
    expect(moved.data?.updateTenant.registryNamespace).toBe('com.initech.printing');
    const derived = await updateTenant(id, { registryNamespace: '' });
    expect(derived.data?.updateTenant.registryNamespace).toBe(`local.mcp-gateway.initech-${id.slice(0, 8)}`);
    const relisted = await get<ServerList>('/v0.1/servers', key);
    expect(relisted.body.servers.map((answer) => answer.server.name)).toEqual([
      `local.mcp-gateway.initech-${id.slice(0, 8)}/printer`,
    ]);
    // The name it had is free again.
    expect(
      (await createTenant({ name: 'Initech 3', registryNamespace: 'com.initech.tools' })).errors,
    ).toBeUndefined();
  });
});
