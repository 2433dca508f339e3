import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { createLogger } from '../src/logger.js';
import { RegistrySync } from '../src/registry-import/registry-sync.js';
import { ImportRegistryServersDocument } from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { closedAfterAll, fullCatalog, startStreamableHttpServer } from './support/mcp-servers.js';
import { type FixtureRegistry, fixtureEntry, startFixtureRegistry } from './support/registry-fixture.js';
import { seed } from './support/seed.js';

interface Note {
  name: string;
  reason: string;
}
interface ImportResult {
  sourceId: string;
  created: number;
  updated: number;
  unchanged: number;
  markedUpstream: number;
  since: string | null;
  skipped: Note[];
  notDiscovered: Note[];
}
interface ServerNode {
  id: string;
  name: string;
  endpointUrl: string;
  transportType: string;
  description: string | null;
  updatedAt: string;
  missingCredentials: string[];
  tools: { name: string }[];
  upstream: {
    registryUrl: string;
    name: string;
    version: string;
    status: string;
    statusMessage: string | null;
    updatedAt: string | null;
    requiredHeaders: string[];
  } | null;
}

const IMPORT = `mutation ($input: ImportRegistryServersInput!) {
  importRegistryServers(input: $input) {
    sourceId created updated unchanged markedUpstream since
    skipped { name reason } notDiscovered { name reason }
  }
}`;
const SERVERS = `{ servers(first: 100) { totalCount edges { node {
  id name endpointUrl transportType description updatedAt missingCredentials tools { name }
  upstream { registryUrl name version status statusMessage updatedAt requiredHeaders }
} } } }`;

let db: TestDatabase;
let app: TestApp;
let fixture: FixtureRegistry;
let tenantKey: string;
let readKey: string;
let otherTenantId: string;
const closeAfterAll = closedAfterAll();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target, { REGISTRY_IMPORT_TIMEOUT_MS: '1000' });
  fixture = await startFixtureRegistry(2);
  const acme = await seed(app.orm).tenant('acme');

  tenantKey = (await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
  readKey = (await acme.key([ApiKeyScope.READ])).key;
  otherTenantId = (await seed(app.orm).tenant('globex')).id;
});

afterAll(async () => {
  await fixture?.close();
  await app?.close();
  await db?.drop();
});

async function importFrom(input: Record<string, unknown>, key = tenantKey) {
  return app.graphql<{ importRegistryServers: ImportResult }>({ query: IMPORT, variables: { input }, key });
}

async function imported(input: Record<string, unknown>, key = tenantKey): Promise<ImportResult> {
  const { data, errors } = await importFrom(input, key);
  expect(errors).toBeUndefined();
  return data?.importRegistryServers as ImportResult;
}

async function serversOf(key: string): Promise<Map<string, ServerNode>> {
  const { data, errors } = await app.graphql<{ servers: { edges: { node: ServerNode }[] } }>({
    query: SERVERS,
    key,
  });
  expect(errors).toBeUndefined();
  return new Map((data?.servers.edges ?? []).map(({ node }) => [node.name, node]));
}

const WEATHER = 'io.github.example/weather';
const SEARCH = 'com.example/search';
const FILES = 'com.example/files';
const TENANT_API = 'com.example/tenant-api';
const NEEDS_VAR = 'com.example/needs-var';
const GONE = 'com.example/gone';
const OLD = 'com.example/old';

/** The OpenAPI document's shapes: remotes with headers, sse, packages only, URL variables, deleted, deprecated. */
function upstreamEntries(
  changes: { weather?: string; search?: 'deleted'; tenantApi?: 'deprecated'; old?: false } = {},
) {
  return [
    fixtureEntry(WEATHER, {
      updatedAt: changes.weather === undefined ? '2025-09-01T11:00:00Z' : '2025-09-02T09:00:00Z',
      server: {
        version: changes.weather ?? '1.0.2',
        remotes: [
          {
            type: 'streamable-http',
            url:
              changes.weather === undefined
                ? 'https://weather.example.com/mcp'
                : 'https://weather.example.com/v2/mcp',
            headers: [
              { name: 'Authorization', description: 'Bearer <token>', isRequired: true, isSecret: true },
              { name: 'X-Trace', description: 'optional', isRequired: false },
            ],
          },
        ],
      },
    }),
    fixtureEntry(SEARCH, {
      status: changes.search === undefined ? 'active' : 'deleted',
      updatedAt: changes.search === undefined ? '2025-09-01T11:00:00Z' : '2025-09-02T10:00:00Z',
      server: { remotes: [{ type: 'sse', url: 'https://search.example.com/sse' }] },
    }),
    fixtureEntry(FILES, {
      server: {
        remotes: undefined,
        packages: [
          {
            registryType: 'npm',
            registryBaseUrl: 'https://registry.npmjs.org',
            identifier: '@modelcontextprotocol/server-filesystem',
            version: '1.0.2',
            transport: { type: 'stdio' },
          },
        ],
      },
    }),
    fixtureEntry(TENANT_API, {
      status: changes.tenantApi ?? 'active',
      ...(changes.tenantApi === undefined ? {} : { statusMessage: 'Please upgrade to version 2.0.0' }),
      updatedAt: changes.tenantApi === undefined ? '2025-09-01T11:00:00Z' : '2025-09-02T11:00:00Z',
      server: {
        remotes: [
          {
            type: 'streamable-http',
            url: 'https://{tenant}.example.com/mcp',
            variables: { tenant: { description: 'Your tenant', default: 'acme' } },
          },
        ],
      },
    }),
    fixtureEntry(NEEDS_VAR, {
      server: {
        remotes: [
          {
            type: 'streamable-http',
            url: 'https://{region}.example.com/mcp',
            variables: { region: { description: 'Region', isRequired: true, choices: ['eu', 'us'] } },
          },
        ],
      },
    }),
    fixtureEntry(GONE, { status: 'deleted' }),
    ...(changes.old === false
      ? []
      : [fixtureEntry(OLD, { status: 'deprecated', statusMessage: 'Use weather' })]),
  ];
}

describe('importing from a registry shaped like the OpenAPI document', () => {
  let weatherId: string;

  it('reads every page, registers the entries with remotes, and says why the others were skipped', async () => {
    fixture.setEntries(upstreamEntries());
    const before = fixture.requests.length;
    const result = await imported({
      url: `${fixture.url}/v0.1/`,
      headers: { 'X-Registry-Key': 'registry-secret' },
    });
    expect(result).toMatchObject({ created: 4, updated: 0, unchanged: 0, markedUpstream: 0, since: null });
    expect(result.skipped).toEqual([
      { name: FILES, reason: 'packages only (npm), no streamable-http or sse remote to connect to' },
      { name: GONE, reason: 'deleted upstream (never imported here)' },
      { name: NEEDS_VAR, reason: 'the remote URL needs a value for {region} and gives no default' },
    ]);
    // Seven entries, two per page: four pages, each asked for the latest versions, deleted ones included.
    const requests = fixture.requests.slice(before);
    expect(requests).toHaveLength(4);
    expect(requests.map((query) => query.get('cursor'))).toEqual([null, 'Mg', 'NA', 'Ng']);
    for (const query of requests) {
      expect(Object.fromEntries(query)).toMatchObject({
        limit: '100',
        version: 'latest',
        include_deleted: 'true',
      });
      expect(query.has('updated_since')).toBe(false);
    }
    expect(fixture.lastHeaders()['x-registry-key']).toBe('registry-secret');
    // Stored for later runs like server credentials: sealed, never in plaintext.
    const stored = await app.orm.em
      .fork()
      .execute<{ headers: unknown }[]>('select headers from registry_sources');
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain('registry-secret');

    const servers = await serversOf(tenantKey);
    expect([...servers.keys()].sort()).toEqual([SEARCH, TENANT_API, OLD, WEATHER].sort());
    const weather = servers.get(WEATHER);
    weatherId = weather?.id ?? '';
    expect(weather).toMatchObject({
      endpointUrl: 'https://weather.example.com/mcp',
      transportType: 'STREAMABLE_HTTP',
      description: 'MCP server providing weather data',
      missingCredentials: ['Authorization'],
      upstream: {
        registryUrl: fixture.url,
        name: WEATHER,
        version: '1.0.2',
        status: 'ACTIVE',
        updatedAt: '2025-09-01T11:00:00.000Z',
        requiredHeaders: ['Authorization'],
      },
    });
    expect(servers.get(SEARCH)).toMatchObject({ transportType: 'SSE', missingCredentials: [] });
    // A URL variable takes its default.
    expect(servers.get(TENANT_API)?.endpointUrl).toBe('https://acme.example.com/mcp');
    expect(servers.get(OLD)?.upstream).toMatchObject({ status: 'DEPRECATED', statusMessage: 'Use weather' });
  });

  it('asks only for what changed at the next run, and a second import changes nothing', async () => {
    const before = await serversOf(tenantKey);
    const sent = fixture.requests.length;
    const again = await imported({ url: fixture.url });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 0, markedUpstream: 0, skipped: [] });
    expect(again.since).toBe('2025-09-01T11:00:00.000Z');
    expect(fixture.requests[sent]?.get('updated_since')).toBe('2025-09-01T11:00:00.000Z');
    // The stored registry key is sent again without being given.
    expect(fixture.lastHeaders()['x-registry-key']).toBe('registry-secret');
    // A full listing compares every entry: still nothing to do.
    const full = await imported({ url: fixture.url, full: true });
    expect(full).toMatchObject({ created: 0, updated: 0, unchanged: 4, markedUpstream: 0 });
    expect(full.skipped.map((note) => note.name)).toEqual([FILES, GONE, NEEDS_VAR]);
    const after = await serversOf(tenantKey);
    expect([...after.values()].map((server) => [server.name, server.updatedAt])).toEqual(
      [...before.values()].map((server) => [server.name, server.updatedAt]),
    );
  });

  it('follows changed entries, marks deleted and deprecated ones and never drops them', async () => {
    fixture.setEntries(upstreamEntries({ weather: '1.1.0', search: 'deleted', tenantApi: 'deprecated' }));
    const result = await imported({ url: fixture.url });
    expect(result).toMatchObject({ created: 0, updated: 1, unchanged: 0, markedUpstream: 2 });
    const servers = await serversOf(tenantKey);
    expect(servers.get(WEATHER)).toMatchObject({
      endpointUrl: 'https://weather.example.com/v2/mcp',
      upstream: { version: '1.1.0', status: 'ACTIVE', updatedAt: '2025-09-02T09:00:00.000Z' },
    });
    // Deleted upstream: kept, marked, where it was.
    expect(servers.get(SEARCH)).toMatchObject({
      endpointUrl: 'https://search.example.com/sse',
      upstream: { status: 'DELETED' },
    });
    expect(servers.get(TENANT_API)?.upstream).toMatchObject({
      status: 'DEPRECATED',
      statusMessage: 'Please upgrade to version 2.0.0',
    });
    // An entry a full listing no longer has is marked MISSING.
    fixture.setEntries(
      upstreamEntries({ weather: '1.1.0', search: 'deleted', tenantApi: 'deprecated', old: false }),
    );
    expect(await imported({ url: fixture.url })).toMatchObject({ created: 0, updated: 0, markedUpstream: 0 });
    expect(await imported({ url: fixture.url, full: true })).toMatchObject({
      markedUpstream: 1,
      unchanged: 3,
    });
    expect((await serversOf(tenantKey)).get(OLD)?.upstream?.status).toBe('MISSING');
  });

  it('says a server needs credentials until its required headers are set', async () => {
    const { errors } = await app.graphql({
      query:
        'mutation ($id: ID!) { updateServer(id: $id, input: { headers: { authorization: "Bearer t" } }) { id } }',
      variables: { id: weatherId },
      key: tenantKey,
    });
    expect(errors).toBeUndefined();
    expect((await serversOf(tenantKey)).get(WEATHER)?.missingCredentials).toEqual([]);
    // An unchanged entry leaves the stored headers alone.
    await imported({ url: fixture.url, full: true });
    expect((await serversOf(tenantKey)).get(WEATHER)?.missingCredentials).toEqual([]);
  });

  it('answers bad JSON and a slow upstream with a clear error, having changed nothing', async () => {
    const before = await serversOf(tenantKey);
    const badJson = await importFrom({ url: fixture.badJsonUrl });
    expect(badJson.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'url',
      upstream: { reason: 'BAD_JSON' },
    });
    // The first page answers, the second never does: the first page's entries are not imported either.
    fixture.setEntries(
      upstreamEntries().map((entry) => ({
        ...entry,
        server: { ...entry.server, name: `${entry.server.name}-slow` },
      })),
    );
    const started = Date.now();
    const slow = await importFrom({ url: fixture.slowUrl });
    expect(slow.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      upstream: { reason: 'TIMEOUT' },
    });
    expect(slow.errors?.[0]?.message).toContain('did not answer within 1000 ms');
    expect(Date.now() - started).toBeLessThan(20_000);
    const after = await serversOf(tenantKey);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const failures = await app.orm.em
      .fork()
      .execute<{ success: boolean; details: unknown }[]>(
        "select success, details from audit_logs where action = 'registry.import' and not success",
      );
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad input, read-only keys and other tenants', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ url: 'ftp://registry.example.com' }, tenantKey, 'BAD_USER_INPUT'],
      [{ url: 'not a url' }, tenantKey, 'BAD_USER_INPUT'],
      [{ url: 'https://user:pw@registry.example.com' }, tenantKey, 'BAD_USER_INPUT'],
      [{ url: fixture.url, headers: ['x'] }, tenantKey, 'BAD_USER_INPUT'],
      [{ url: fixture.url, headers: { 'Bad Header': 'x' } }, tenantKey, 'BAD_USER_INPUT'],
      [{ url: fixture.url }, readKey, 'FORBIDDEN'],
      [{ url: fixture.url, tenantId: otherTenantId }, tenantKey, 'NOT_FOUND'],
      [{ url: 'http://127.0.0.1:9' }, tenantKey, 'BAD_USER_INPUT'],
    ];
    for (const [input, key, code] of cases) {
      const { errors } = await importFrom(input, key);
      expect({ input, code: errors?.[0]?.extensions?.code }).toEqual({ input, code });
    }
  });

  it('costs the same statements for 10 entries as for 60 (lookups batched by name)', async () => {
    const big = await startFixtureRegistry(100);
    try {
      const statementsFor = async (count: number, tenantName: string) => {
        const tenant = await seed(app.orm).tenant(tenantName);
        const key = (await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
        big.setEntries(
          Array.from({ length: count }, (_, index) => fixtureEntry(`com.example/bulk-${index}`)),
        );
        const { result, statements } = await app.countStatements(() => importFrom({ url: big.url }, key));
        expect(result.errors).toBeUndefined();
        expect(result.data?.importRegistryServers.created).toBe(count);
        // And once more with every entry changed: updates are batched too.
        big.setEntries(
          Array.from({ length: count }, (_, index) =>
            fixtureEntry(`com.example/bulk-${index}`, {
              server: { version: '2.0.0' },
              updatedAt: '2025-10-01T00:00:00Z',
            }),
          ),
        );
        const updated = await app.countStatements(() => importFrom({ url: big.url }, key));
        expect(updated.result.data?.importRegistryServers.updated).toBe(count);
        return [statements.length, updated.statements.length];
      };
      const small = await statementsFor(10, 'bulk-small');
      const large = await statementsFor(60, 'bulk-large');
      expect(large).toEqual(small);
    } finally {
      await big.close();
    }
  });
});

describe('importing from a second instance of our own API', () => {
  let upstreamDb: TestDatabase;
  let upstream: TestApp;
  let originKey: string;
  let originName: string;
  let openId: string;
  let lockedId: string;
  let virtualId: string;
  let importerKey: string;

  beforeAll(async () => {
    upstreamDb = await createTestDatabase();
    upstream = await startTestApp(upstreamDb.target);
    const origin = await seed(upstream.orm).tenant('origin');
    originKey = (await origin.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
    originName = `local.mcp-gateway.origin`;
    const mcp = await closeAfterAll(startStreamableHttpServer({ ...fullCatalog, version: '3.0.0' }));
    const register = async (input: Record<string, unknown>) => {
      const { data, errors } = await upstream.graphql<{ registerServer: { id: string } }>({
        query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
        variables: { input },
        key: originKey,
      });
      expect(errors).toBeUndefined();
      return data?.registerServer.id ?? '';
    };
    openId = await register({ name: 'open', endpointUrl: mcp.url, transportType: 'STREAMABLE_HTTP' });
    lockedId = await register({
      name: 'locked',
      endpointUrl: mcp.url,
      transportType: 'STREAMABLE_HTTP',
      headers: { Authorization: 'Bearer upstream-token' },
    });
    const created = await upstream.graphql<{ createVirtualServer: { id: string } }>({
      query: 'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id } }',
      variables: { input: { name: 'toolbox', members: [{ serverId: openId }] } },
      key: originKey,
    });
    expect(created.errors).toBeUndefined();
    virtualId = created.data?.createVirtualServer.id ?? '';
    const importer = await seed(app.orm).tenant('importer');
    importerKey = (await importer.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
  });

  afterAll(async () => {
    await upstream?.close();
    await upstreamDb?.drop();
  });

  const upstreamGraphql = async (query: string, variables: Record<string, unknown>) => {
    const { errors } = await upstream.graphql({ query, variables, key: originKey });
    expect(errors).toBeUndefined();
  };

  it('imports its servers and virtual servers with their key, discovering those it can', async () => {
    const refused = await importFrom({ url: upstream.origin }, importerKey);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      upstream: { reason: 'HTTP_ERROR', status: 401 },
    });
    const { data, errors } = await app.graphql<{ importRegistryServers: ImportResult }>({
      query: print(ImportRegistryServersDocument),
      variables: {
        input: { url: upstream.origin, discover: true, headers: { Authorization: `Bearer ${originKey}` } },
      },
      key: importerKey,
    });
    expect(errors).toBeUndefined();
    expect(data?.importRegistryServers).toEqual({
      created: 3,
      updated: 0,
      unchanged: 0,
      markedUpstream: 0,
      skipped: [],
    });
    const servers = await serversOf(importerKey);
    const open = servers.get(`${originName}/open`);
    expect(open?.tools.map((tool) => tool.name)).toEqual(fullCatalog.tools?.map((tool) => tool.name).sort());
    expect(open?.upstream).toMatchObject({ version: '3.0.0', status: 'ACTIVE' });
    // Headers the upstream's server is reached with: needed here too, and not asked for without them.
    expect(servers.get(`${originName}/locked`)).toMatchObject({
      tools: [],
      missingCredentials: ['Authorization'],
    });
    const toolbox = servers.get(`${originName}.virtual/toolbox`);
    expect(toolbox).toMatchObject({
      endpointUrl: `${upstream.origin}/mcp/${virtualId}`,
      missingCredentials: ['Authorization'],
    });
  });

  it('changes nothing the second time, then follows upstream changes', async () => {
    const again = await imported({ url: upstream.origin }, importerKey);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 0, markedUpstream: 0 });
    expect(again.since).not.toBeNull();

    await upstreamGraphql(
      'mutation ($id: ID!) { updateServer(id: $id, input: { description: "Now described" }) { id } }',
      {
        id: openId,
      },
    );
    await upstreamGraphql(
      'mutation ($id: ID!) { updateVirtualServer(id: $id, input: { isActive: false }) { id } }',
      {
        id: virtualId,
      },
    );
    const changed = await imported({ url: upstream.origin }, importerKey);
    expect(changed).toMatchObject({ created: 0, updated: 1, markedUpstream: 1 });
    const servers = await serversOf(importerKey);
    expect(servers.get(`${originName}/open`)?.description).toBe('Now described');
    expect(servers.get(`${originName}.virtual/toolbox`)?.upstream?.status).toBe('DELETED');

    // A server deleted upstream leaves no entry behind: a full listing finds it gone, and marks it.
    await upstreamGraphql('mutation ($id: ID!) { deleteServer(id: $id) }', { id: lockedId });
    expect(await imported({ url: upstream.origin }, importerKey)).toMatchObject({ markedUpstream: 0 });
    expect(await imported({ url: upstream.origin, full: true }, importerKey)).toMatchObject({
      markedUpstream: 1,
    });
    expect((await serversOf(importerKey)).get(`${originName}/locked`)?.upstream?.status).toBe('MISSING');
  });
});

describe('the scheduled sync', () => {
  it('syncs each source of REGISTRY_SYNC_URLS once per interval across instances', async () => {
    const registry = await startFixtureRegistry(2);
    try {
      registry.setEntries([fixtureEntry('com.example/synced')]);
      const tenant = await seed(app.orm).tenant('synced');
      const key = (await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
      await imported({ url: registry.url, headers: { 'X-Registry-Key': 'sync-secret' } }, key);
      await imported({ url: registry.url, search: 'synced' }, key);
      registry.setEntries([
        fixtureEntry('com.example/synced', {
          server: { version: '1.1.0' },
          updatedAt: '2025-10-01T00:00:00Z',
        }),
        fixtureEntry('com.example/synced-two', { updatedAt: '2025-10-01T00:00:00Z' }),
      ]);
      const config = loadConfig({
        REGISTRY_SYNC_URLS: `${registry.url}/,http://127.0.0.1:9`,
        REGISTRY_SYNC_INTERVAL_MS: '3600000',
      });
      const log = createLogger('silent');
      const one = new RegistrySync(app.orm, config, log, app.keyring);
      const two = new RegistrySync(app.orm, config, log, app.keyring);
      // Sources were due from their creation: two instances share them, each taken once.
      const counts = await Promise.all([one.runDue(), two.runDue()]);
      expect(counts[0] + counts[1]).toBe(2);
      expect(await one.runDue()).toBe(0);
      const servers = await serversOf(key);
      expect(servers.get('com.example/synced')?.upstream?.version).toBe('1.1.0');
      expect(servers.has('com.example/synced-two')).toBe(true);
      // Each source asked only for what changed since its own last run.
      const syncRequests = registry.requests.slice(-2).map((query) => query.get('updated_since'));
      expect(syncRequests).toEqual(['2025-09-01T11:00:00.000Z', '2025-09-01T11:00:00.000Z']);
      const audit = await app.orm.em
        .fork()
        .execute<{ count: string | number }[]>(
          "select count(*) as count from audit_logs where action = 'registry.import' and success and api_key_id is null",
        );
      expect(Number(audit[0]?.count)).toBeGreaterThanOrEqual(2);
    } finally {
      await registry.close();
    }
  });
});
