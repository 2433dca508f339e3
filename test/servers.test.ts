import { createPubSub } from '@graphql-yoga/subscription';
import { type GraphQLNamedType, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CircuitBreaker } from '../src/registry/circuit-breaker.entity.js';
import { openConnectionHeaders } from '../src/registry/connection-headers.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { CircuitBreakerState, ServerStatus } from '../src/registry/registry.enums.js';
import { ServerTool } from '../src/registry/server-tool.entity.js';
import { buildAppSchema } from '../src/schema.js';
import {
  DeleteServerDocument,
  DiscoverServersDocument,
  RegisterServerDocument,
  SearchServersDocument,
  ServerDetailDocument,
  ServerListDocument,
  UpdateServerDocument,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';
import { selectEverything } from './support/selection.js';

let db: TestDatabase;
let app: TestApp;
type SeededTenant = Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let acme: SeededTenant;
let acmeKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  acme = await seed(app.orm).tenant('acme');
  acmeKey = (await acme.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

interface ServerNode {
  id: string;
  name: string;
  [field: string]: unknown;
}
interface ServerPage {
  servers: {
    totalCount: number;
    pageInfo?: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor?: string; node: ServerNode }[];
  };
}

const names = (page: ServerPage | null | undefined) =>
  page?.servers.edges.map((edge) => edge.node.name) ?? [];

const registerInput = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  endpointUrl: `https://${name}.example.test/mcp`,
  transportType: 'STREAMABLE_HTTP',
  discover: false,
  ...extra,
});

describe('registerServer', () => {
  it('stores the declared tools, resources and prompts with a closed circuit, and audits it', async () => {
    const { data, errors } = await app.graphql<{ registerServer: Record<string, unknown> }>({
      query: print(RegisterServerDocument),
      key: acmeKey,
      variables: {
        input: registerInput('weather', {
          description: 'Forecasts',
          tags: ['geo', 'geo', 'public'],
          headers: { Authorization: 'Bearer upstream-secret' },
          failureThreshold: 3,
          tools: [
            { name: 'forecast', description: 'Weather', toolSchema: { type: 'object' } },
            { name: 'alerts' },
          ],
          resources: [{ uriTemplate: 'weather://{city}/today', mimeType: 'application/json' }],
          prompts: [{ name: 'summarise' }],
        }),
      },
    });
    expect(errors).toBeUndefined();
    const server = data?.registerServer ?? {};
    expect(server).toMatchObject({
      name: 'weather',
      transportType: 'STREAMABLE_HTTP',
      healthStatus: 'UNKNOWN',
      tenant: { id: acme.id, name: 'acme' },
      circuitBreaker: { state: 'CLOSED', failureCount: 0, failureThreshold: 3, openedAt: null },
      tools: [
        { name: 'alerts', description: null, toolSchema: { type: 'object' } },
        { name: 'forecast', description: 'Weather', toolSchema: { type: 'object' } },
      ],
      resources: [{ uriTemplate: 'weather://{city}/today', mimeType: 'application/json' }],
      prompts: [{ name: 'summarise' }],
    });
    expect(JSON.stringify(server)).not.toContain('upstream-secret');
    const em = app.orm.em.fork();
    const stored = await em.findOneOrFail(MCPServer, server.id as string, { populate: ['sealedHeaders'] });
    expect(JSON.stringify(stored.sealedHeaders)).not.toContain('upstream-secret');
    expect(openConnectionHeaders(app.keyring, stored.id, stored.sealedHeaders)).toEqual({
      Authorization: 'Bearer upstream-secret',
    });
    expect(stored.tags).toEqual(['geo', 'public']);
    const audit = await em.findOneOrFail(AuditLog, { action: 'server.register', resourceId: stored.id });
    expect(audit.success).toBe(true);
    expect(JSON.stringify(audit.details)).not.toContain('upstream-secret');
  });

  it.each([
    [{ endpointUrl: 'not a url' }, 'endpointUrl'],
    [{ endpointUrl: 'ftp://files.example.test' }, 'endpointUrl'],
    [{ transportType: 'WEBSOCKET' }, 'endpointUrl'],
    [{ name: '   ' }, 'name'],
    [{ tags: ['x'.repeat(51)] }, 'tags'],
    [{ headers: { 'bad header': 'x' } }, 'headers'],
    [{ headers: { 'X-Token': 'a\r\nInjected: yes' } }, 'headers'],
    [{ headers: ['not', 'an', 'object'] }, 'headers'],
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ tools: [{ name: 'dup' }, { name: 'dup' }] }, 'tools'],
    [{ tools: [{ name: 'x', toolSchema: 'not an object' }] }, 'tools.toolSchema'],
    [{ resources: [{ uriTemplate: '' }] }, 'resources'],
  ])('rejects %j with BAD_USER_INPUT and stores nothing', async (change, field) => {
    const before = await app.orm.em.fork().count(MCPServer);
    const { errors } = await app.graphql({
      query: print(RegisterServerDocument),
      key: acmeKey,
      variables: { input: registerInput('invalid', change) },
    });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await app.orm.em.fork().count(MCPServer)).toBe(before);
  });

  it("takes a STDIO server's command line from platform admins only, and checks that it parses", async () => {
    const input = registerInput('local-files', {
      transportType: 'STDIO',
      endpointUrl: "npx -y '@acme/files'",
      tenantId: acme.id,
    });
    const register = (key: string | undefined, variables: Record<string, unknown>) =>
      app.graphql({ query: print(RegisterServerDocument), key, variables: { input: variables } });
    const tenantKey = await register(acmeKey, input);
    expect(tenantKey.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unparsable = await register(undefined, { ...input, endpointUrl: 'npx "unterminated' });
    expect(unparsable.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'endpointUrl',
    });
    const admin = await register(undefined, input);
    expect(admin.errors).toBeUndefined();
  });

  it('answers CONFLICT for a name the tenant already uses, leaving one server and a failed audit row', async () => {
    const input = registerInput('twin', { tools: [{ name: 'a' }] });
    await app.graphql({ query: print(RegisterServerDocument), key: acmeKey, variables: { input } });
    const { errors } = await app.graphql({
      query: print(RegisterServerDocument),
      key: acmeKey,
      variables: { input },
    });
    expect(errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const em = app.orm.em.fork();
    expect(await em.count(MCPServer, { name: 'twin' })).toBe(1);
    expect(await em.count(ServerTool, { server: { name: 'twin' } })).toBe(1);
    const failed = await em.find(AuditLog, { action: 'server.register', success: false });
    expect(failed.some((row) => row.details.error === 'CONFLICT')).toBe(true);
  });

  it("lets another tenant use the same name, and hides another tenant's existence", async () => {
    const globex = await seed(app.orm).tenant('globex-register');
    const globexKey = (await globex.key()).key;
    const same = await app.graphql({
      query: print(RegisterServerDocument),
      key: globexKey,
      variables: { input: registerInput('twin') },
    });
    expect(same.errors).toBeUndefined();
    const foreign = await app.graphql({
      query: print(RegisterServerDocument),
      key: globexKey,
      variables: { input: registerInput('intruder', { tenantId: acme.id }) },
    });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('needs WRITE', async () => {
    const readOnly = (await acme.key([ApiKeyScope.READ])).key;
    const { errors } = await app.graphql({
      query: print(RegisterServerDocument),
      key: readOnly,
      variables: { input: registerInput('nope') },
    });
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('updateServer and deleteServer', () => {
  it('does not let stored headers follow a server to another host', async () => {
    const registered = await app.graphql<{ registerServer: { id: string } }>({
      query: print(RegisterServerDocument),
      key: acmeKey,
      variables: {
        input: registerInput('credentialed', { headers: { Authorization: 'Bearer upstream-secret' } }),
      },
    });
    const id = registered.data?.registerServer.id ?? '';
    const update = (input: Record<string, unknown>) =>
      app.graphql<{ updateServer: { endpointUrl: string } }>({
        query: print(UpdateServerDocument),
        key: acmeKey,
        variables: { id, input },
      });
    const stored = async () => {
      const server = await app.orm.em.fork().findOneOrFail(MCPServer, id, { populate: ['sealedHeaders'] });
      return {
        url: server.endpointUrl,
        headers: openConnectionHeaders(app.keyring, id, server.sealedHeaders),
      };
    };
    const before = await stored();

    const moved = await update({ endpointUrl: 'https://collector.attacker.test/mcp' });
    expect(moved.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers' });
    expect(await stored()).toEqual(before);

    // Same origin, another path: the credentials were given for this host.
    const samePlace = await update({ endpointUrl: new URL('/v2/mcp', before.url).toString() });
    expect(samePlace.errors).toBeUndefined();

    const withNewHeaders = await update({
      endpointUrl: 'https://new-home.example.test/mcp',
      headers: { Authorization: 'Bearer new-secret' },
    });
    expect(withNewHeaders.errors).toBeUndefined();
    expect((await stored()).headers).toEqual({ Authorization: 'Bearer new-secret' });
    const dropped = await update({ endpointUrl: 'https://elsewhere.example.test/mcp', headers: null });
    expect(dropped.errors).toBeUndefined();
    expect((await stored()).headers).toBeNull();
  });

  it('changes only the given fields, validates them, and deletes with everything attached', async () => {
    const [server] = await acme.servers([
      { name: 'editable', tools: ['t1', 't2'], resources: ['file:///a'] },
    ]);
    const id = server?.id ?? '';
    const updated = await app.graphql<{ updateServer: Record<string, unknown> }>({
      query: print(UpdateServerDocument),
      key: acmeKey,
      variables: { id, input: { description: 'now described', failureThreshold: 9 } },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.updateServer).toMatchObject({
      name: 'editable',
      description: 'now described',
      circuitBreaker: { failureThreshold: 9 },
    });

    const badTransport = await app.graphql({
      query: print(UpdateServerDocument),
      key: acmeKey,
      variables: { id, input: { transportType: 'WEBSOCKET' } },
    });
    expect(badTransport.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'endpointUrl',
    });

    const deleted = await app.graphql({
      query: print(DeleteServerDocument),
      key: acmeKey,
      variables: { id },
    });
    expect(deleted.data).toEqual({ deleteServer: true });
    const em = app.orm.em.fork();
    expect(await em.count(ServerTool, { server: id })).toBe(0);
    expect(await em.count(CircuitBreaker, { server: id })).toBe(0);
    const again = await app.graphql({ query: print(DeleteServerDocument), key: acmeKey, variables: { id } });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("answers NOT_FOUND for another tenant's server and changes nothing", async () => {
    const other = await seed(app.orm).tenant('other-update');
    const [server] = await other.servers([{ name: 'theirs' }]);
    const id = server?.id ?? '';
    const update = await app.graphql({
      query: print(UpdateServerDocument),
      key: acmeKey,
      variables: { id, input: { name: 'mine now' } },
    });
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const remove = await app.graphql({ query: print(DeleteServerDocument), key: acmeKey, variables: { id } });
    expect(remove.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await app.orm.em.fork().findOneOrFail(MCPServer, id)).name).toBe('theirs');
  });
});

describe('servers: filters, order and pages', () => {
  let tenant: SeededTenant;
  let key: string;

  beforeAll(async () => {
    tenant = await seed(app.orm).tenant('discovery');
    key = (await tenant.key([ApiKeyScope.READ])).key;
    await tenant.servers([
      { name: 'alpha', avgResponseTime: 30, tools: ['search', 'fetch'], resources: ['file:///{path}'] },
      { name: 'bravo', avgResponseTime: 10, tools: ['search'], resources: ['db://{table}/rows{?limit}'] },
      {
        name: 'charlie',
        avgResponseTime: 20,
        healthStatus: ServerStatus.DEGRADED,
        tools: ['search', 'fetch', 'write'],
        resources: ['https://docs.example.test/guide'],
      },
      { name: 'delta', healthStatus: ServerStatus.UNHEALTHY, tools: ['search', 'fetch'], tags: ['eu'] },
      { name: 'echo_50%', avgResponseTime: null, tools: ['search', 'fetch'], description: 'Has 100% uptime' },
      { name: 'foxtrot', transportType: undefined, description: 'Files server', tags: ['eu', 'gold'] },
    ]);
  });

  const discover = (variables: Record<string, unknown>) =>
    app.graphql<ServerPage>({ query: print(DiscoverServersDocument), variables, key });

  it('finds servers that have ALL the tools, healthy or degraded, fastest first, nulls last', async () => {
    const { data } = await discover({ tools: ['search', 'fetch'] });
    expect(names(data)).toEqual(['charlie', 'alpha', 'echo_50%']);
    expect(data?.servers.totalCount).toBe(3);
  });

  it('matches a URI against templates and concrete resources, and text as a literal substring', async () => {
    expect(names((await discover({ resources: ['file:///etc/hosts'] })).data)).toEqual(['alpha']);
    expect(names((await discover({ resources: ['db://users/rows?limit=5'] })).data)).toEqual(['bravo']);
    expect(names((await discover({ resources: ['db://users/columns'] })).data)).toEqual([]);
    expect(names((await discover({ resources: ['https://docs.example.test/guide'] })).data)).toEqual([
      'charlie',
    ]);
    expect(names((await discover({ resources: ['docs.example'] })).data)).toEqual(['charlie']);
    expect(names((await discover({ resources: ['file', '%'] })).data)).toEqual([]);
    expect(names((await discover({ tools: ['search'], resources: ['file:///x', 'rows'] })).data)).toEqual([]);
  });

  it('searches name and description as literal text, % and _ included', async () => {
    const search = (text: string) =>
      app.graphql<ServerPage>({ query: print(SearchServersDocument), variables: { search: text }, key });
    expect(names((await search('50%')).data)).toEqual(['echo_50%']);
    expect(names((await search('100%')).data)).toEqual(['echo_50%']);
    expect(names((await search('_')).data)).toEqual(['echo_50%']);
    expect(names((await search('FILES')).data)).toEqual(['foxtrot']);
  });

  it('filters by status, transport and tags, and orders by each field both ways', async () => {
    const list = (filter: Record<string, unknown>, orderBy?: Record<string, string>) =>
      app.graphql<ServerPage>({
        query:
          'query($filter: ServerFilter, $orderBy: ServerOrder) { servers(filter: $filter, orderBy: $orderBy, first: 100) { totalCount edges { node { id name } } } }',
        variables: { filter, orderBy },
        key,
      });
    expect(names((await list({ healthStatus: ['UNHEALTHY'] })).data)).toEqual(['delta']);
    expect(names((await list({ tags: ['eu', 'gold'] })).data)).toEqual(['foxtrot']);
    expect(names((await list({ tags: ['eu'] })).data)).toEqual(['delta', 'foxtrot']);
    expect(names((await list({ transportType: ['SSE'] })).data)).toEqual([]);
    const byName = names((await list({}, { field: 'NAME', direction: 'DESC' })).data);
    expect(byName).toEqual(['foxtrot', 'echo_50%', 'delta', 'charlie', 'bravo', 'alpha']);
    const bySpeed = names((await list({}, { field: 'AVG_RESPONSE_TIME', direction: 'DESC' })).data);
    expect(bySpeed.slice(0, 3)).toEqual(['alpha', 'charlie', 'bravo']);
  });

  it.each([
    ['NAME', 'ASC'],
    ['NAME', 'DESC'],
    ['CREATED_AT', 'ASC'],
    ['AVG_RESPONSE_TIME', 'ASC'],
    ['AVG_RESPONSE_TIME', 'DESC'],
    ['SUCCESS_RATE', 'DESC'],
  ])('pages by %s %s without gaps or repeats', async (field, direction) => {
    const query =
      'query($orderBy: ServerOrder, $after: String) { servers(orderBy: $orderBy, first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }';
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: { data: ServerPage | null | undefined } = await app.graphql<ServerPage>({
        query,
        variables: { orderBy: { field, direction }, after },
        key,
      });
      seen.push(...names(response.data));
      if (!response.data?.servers.pageInfo?.hasNextPage) break;
      after = response.data.servers.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it.each([
    [
      'the NAME order, in AVG_RESPONSE_TIME order',
      { field: 'NAME', direction: 'ASC' },
      { field: 'AVG_RESPONSE_TIME', direction: 'ASC' },
    ],
    [
      'the AVG_RESPONSE_TIME order, in CREATED_AT order',
      { field: 'AVG_RESPONSE_TIME', direction: 'ASC' },
      { field: 'CREATED_AT', direction: 'DESC' },
    ],
  ])('refuses a cursor of %s with BAD_USER_INPUT', async (_label, from, to) => {
    const query =
      'query($orderBy: ServerOrder, $after: String) { servers(orderBy: $orderBy, first: 1, after: $after) { pageInfo { endCursor } } }';
    const first = await app.graphql<ServerPage>({ query, variables: { orderBy: from }, key });
    const after = first.data?.servers.pageInfo?.endCursor;
    expect(after).toEqual(expect.any(String));
    const { errors } = await app.graphql({ query, variables: { orderBy: to, after }, key });
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it("never shows another tenant's servers, even when asked by tenantId", async () => {
    const { data } = await app.graphql<ServerPage>({
      query: print(ServerListDocument),
      variables: { filter: { tenantId: acme.id }, first: 100 },
      key,
    });
    expect(data?.servers).toMatchObject({ totalCount: 0, edges: [] });
  });
});

describe('keys limited to some servers', () => {
  it('see and touch only those servers, on every path', async () => {
    const tenant = await seed(app.orm).tenant('limited');
    const [allowed, hidden] = await tenant.servers([{ name: 'allowed' }, { name: 'hidden' }]);
    const allowedId = allowed?.id ?? '';
    const hiddenId = hidden?.id ?? '';
    const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE], { allowedServers: [allowedId] });

    const list = await app.graphql<ServerPage>({
      query: print(ServerListDocument),
      variables: { first: 10 },
      key,
    });
    expect(list.data?.servers.totalCount).toBe(1);
    expect(names(list.data)).toEqual(['allowed']);

    const detail = await app.graphql({
      query: print(ServerDetailDocument),
      variables: { id: hiddenId },
      key,
    });
    expect(detail.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const update = await app.graphql({
      query: print(UpdateServerDocument),
      variables: { id: hiddenId, input: { description: 'touched' } },
      key,
    });
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const register = await app.graphql({
      query: print(RegisterServerDocument),
      variables: { input: registerInput('sneaky') },
      key,
    });
    expect(register.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const entities = await app.graphql<{ _entities: ({ id: string } | null)[] }>({
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MCPServer { id } } }',
      variables: { r: [allowedId, hiddenId].map((id) => ({ __typename: 'MCPServer', id })) },
      key,
    });
    expect(entities.data?._entities).toEqual([{ id: allowedId }, null]);
  });
});

describe('ServerList and ServerDetail', () => {
  it('loads a page of 100 servers with tools, resources, tenant and breaker in a constant number of statements', async () => {
    const big = await seed(app.orm).tenant('big');
    const key = (await big.key([ApiKeyScope.READ])).key;
    const page = (first: number) =>
      app.countStatements(() =>
        app.graphql<ServerPage>({ query: print(ServerListDocument), variables: { first }, key }),
      );
    await big.servers(
      Array.from({ length: 100 }, (_, index) => ({
        name: `server-${String(index).padStart(3, '0')}`,
        tools: ['search', 'fetch', `tool-${index}`],
        resources: [`file:///data/${index}/{name}`],
      })),
    );
    // The first request also reads the key (then cached): counted apart from both pages.
    await page(1);
    const small = await page(5);
    const large = await page(100);
    expect(large.result.data?.servers.edges).toHaveLength(100);
    const first = large.result.data?.servers.edges[0]?.node;
    expect(first).toMatchObject({
      name: 'server-000',
      tenant: { id: big.id, name: 'big' },
      circuitBreaker: { state: 'CLOSED' },
      tools: [{ name: 'fetch' }, { name: 'search' }, { name: 'tool-0' }],
      resources: [{ uriTemplate: 'file:///data/0/{name}' }],
    });
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBeLessThanOrEqual(3);
  });

  it('reads every field of a list page as the detail of each server reads it (plain rows and entities agree)', async () => {
    const tenant = await seed(app.orm).tenant('rows');
    const key = (await tenant.key([ApiKeyScope.READ])).key;
    const servers = await tenant.servers([
      {
        name: 'rows-a',
        description: 'with everything',
        tags: ['x', 'y'],
        avgResponseTime: 12.5,
        tools: ['alpha', 'beta'],
        toolCalls: { alpha: { calls: 7, errors: 2 } },
        resources: ['file:///a/{name}', 'file:///a/fixed.txt'],
        prompts: ['p'],
        circuitState: CircuitBreakerState.OPEN,
      },
      { name: 'rows-b', healthStatus: ServerStatus.UNHEALTHY },
    ]);
    const em = app.orm.em.fork();
    await em.nativeUpdate(
      CircuitBreaker,
      { server: servers[0]?.id },
      { openedAt: new Date('2026-01-02T03:04:05.678Z') },
    );
    await em.nativeUpdate(
      ServerTool,
      { name: 'alpha' },
      { annotations: { readOnlyHint: true }, avgExecutionTime: 3.25 },
    );

    const schema = await buildAppSchema(createPubSub());
    const node = selectEverything(schema, schema.getType('MCPServer') as GraphQLNamedType, 2);
    const list = await app.graphql<{ servers: { edges: { node: ServerNode }[] } }>({
      query: `{ servers(filter: { search: "rows-" }) { edges { node ${node} } } }`,
      key,
    });
    expect(list.errors).toBeUndefined();
    const nodes = list.data?.servers.edges.map((edge) => edge.node) ?? [];
    expect(nodes.map((entry) => entry.name)).toEqual(['rows-a', 'rows-b']);
    for (const listed of nodes) {
      const detail = await app.graphql<{ server: ServerNode }>({
        query: `query($id: ID!) { server(id: $id) ${node} }`,
        variables: { id: listed.id },
        key,
      });
      expect(detail.errors).toBeUndefined();
      expect(listed).toEqual(detail.data?.server);
    }
    expect(nodes[0]).toMatchObject({
      circuitBreaker: { state: 'OPEN', openedAt: '2026-01-02T03:04:05.678Z' },
      tools: [
        { name: 'alpha', totalCalls: 7, annotations: { readOnlyHint: true }, avgExecutionTime: 3.25 },
        { name: 'beta' },
      ],
      resources: [{ uriTemplate: 'file:///a/fixed.txt' }, { uriTemplate: 'file:///a/{name}' }],
    });
  });

  it('reads a page in one statement whatever way the relations are selected, and counts only when asked', async () => {
    const key = (await acme.key([ApiKeyScope.READ])).key;
    await acme.servers([{ name: 'selection-a', tools: ['t'], resources: ['file:///s'] }]);
    const statementsOf = async (query: string) => {
      const { result, statements } = await app.countStatements(() => app.graphql({ query, key }));
      expect(result.errors).toBeUndefined();
      return statements.filter((statement) => !statement.includes('api_keys'));
    };
    const viaFragments = await statementsOf(`
      { servers { edges { node { ...Relations ... on MCPServer { breaker: circuitBreaker { state } } } } } }
      fragment Relations on MCPServer { tenant { name } first: tools { name } again: tools { id } resources { id } }`);
    expect(viaFragments).toHaveLength(1);
    expect(viaFragments[0]).not.toContain('count(');
    const withCount = await statementsOf('{ servers { totalCount edges { node { name } } } }');
    expect(withCount).toHaveLength(2);
    expect(withCount.join('\n')).not.toContain('server_tools');
  });

  it('reads only the tool and resource columns a page selects, and whole rows for whoever asks for more', async () => {
    const key = (await acme.key([ApiKeyScope.READ])).key;
    const [server] = await acme.servers([{ name: 'columns-a', tools: ['narrow'], resources: ['file:///c'] }]);
    const filter = '(filter: { search: "columns-a" })';
    const narrow = await app.countStatements(() =>
      app.graphql({
        query: `{ servers${filter} { edges { node { tools { name } resources { uriTemplate } } } } }`,
        key,
      }),
    );
    expect(narrow.result.errors).toBeUndefined();
    const page = narrow.statements.find((statement) => statement.includes('server_tools')) ?? '';
    expect(page).toContain('"name"');
    expect(page).not.toContain('tool_schema');
    expect(page).not.toContain('uri_regex');
    expect(page).not.toContain('server_info');

    // One document, one request: the page's narrow rows must not stand in for the detail's whole ones.
    const both = await app.graphql<{
      servers: { edges: { node: { tools: { name: string }[] } }[] };
      server: { tools: { name: string; toolSchema: unknown; totalCalls: number }[] };
    }>({
      query: `query($id: ID!) {
        servers${filter} { edges { node { tools { name } } } }
        server(id: $id) { tools { name toolSchema totalCalls } }
      }`,
      variables: { id: server?.id },
      key,
    });
    expect(both.errors).toBeUndefined();
    expect(both.data?.servers.edges[0]?.node.tools).toEqual([{ name: 'narrow' }]);
    expect(both.data?.server.tools).toEqual([
      {
        name: 'narrow',
        toolSchema: { type: 'object', properties: { query: { type: 'string' } } },
        totalCalls: 0,
      },
    ]);
  });

  it('reads only the tenant and breaker columns a page selects, and whole rows for a field computed from them', async () => {
    const key = (await acme.key([ApiKeyScope.READ])).key;
    await acme.servers([{ name: 'columns-b' }]);
    const filter = '(filter: { search: "columns-b" })';
    const narrow = await app.countStatements(() =>
      app.graphql<{ servers: { edges: { node: unknown }[] } }>({
        query: `{ servers${filter} { edges { node { tenant { name } circuitBreaker { state } } } } }`,
        key,
      }),
    );
    expect(narrow.result.errors).toBeUndefined();
    expect(narrow.result.data?.servers.edges).toEqual([
      { node: { tenant: { name: expect.any(String) }, circuitBreaker: { state: 'CLOSED' } } },
    ]);
    // The page's statement reads them, and no loader after it (a new key is looked up once besides).
    const reading = narrow.statements.filter(
      (sql) => sql.includes('"tenants"') || sql.includes('circuit_breakers'),
    );
    expect(reading).toHaveLength(1);
    expect(reading[0]).not.toContain('"settings"');
    expect(reading[0]).not.toContain('total_requests');

    // registryNamespace is a column and a field of its own (derived from the name when none was chosen): it
    // reads what the request did not select, so it gets the whole row.
    const namespaceOf = async (selection: string) => {
      const { data, errors } = await app.graphql<{
        servers: { edges: { node: { tenant: { registryNamespace: string } } }[] };
      }>({ query: `{ servers${filter} { edges { node { tenant { ${selection} } } } } }`, key });
      expect(errors).toBeUndefined();
      return data?.servers.edges[0]?.node.tenant.registryNamespace;
    };
    const alone = await namespaceOf('registryNamespace');
    expect(alone).toEqual(expect.any(String));
    expect(alone).toBe(await namespaceOf('id name status settings registryNamespace'));
  });

  it('shows a server in detail with prompts, capabilities and an empty history', async () => {
    const [server] = await acme.servers([{ name: 'detailed', tools: ['x'] }]);
    const { data, errors } = await app.graphql({
      query: print(ServerDetailDocument),
      variables: { id: server?.id },
      key: acmeKey,
    });
    expect(errors).toBeUndefined();
    expect(data).toMatchObject({
      server: { name: 'detailed', capabilities: {}, protocolVersion: null, prompts: [], healthHistory: [] },
    });
  });
});
