import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import {
  CreateVirtualServerDocument,
  DeleteVirtualServerDocument,
  UpdateVirtualServerDocument,
  VirtualServerDetailDocument,
  VirtualServerListDocument,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { closedAfterAll, startStreamableHttpServer } from './support/mcp-servers.js';
import { seed } from './support/seed.js';

let db: TestDatabase;
let app: TestApp;
let key: string;
let tenantId: string;
const started = closedAfterAll();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const tenant = await seed(app.orm).tenant('agents-co');
  tenantId = tenant.id;
  ({ key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

type Tool = { name: string; toolName: string; description?: string | null; server: { id: string } };
type VirtualServerAnswer = { id: string; endpointUrl: string; tools: Tool[] };

async function register(name: string, tools: { name: string; description?: string }[]) {
  const upstream = await started(
    startStreamableHttpServer({
      name,
      version: '1.0.0',
      tools: tools.map((tool) => ({ ...tool, inputSchema: { type: 'object' as const } })),
    }),
  );
  const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
    query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    variables: { input: { name, endpointUrl: upstream.url, transportType: 'STREAMABLE_HTTP' } },
    key,
  });
  expect(errors).toBeUndefined();
  return { id: data?.registerServer.id ?? '', upstream };
}

async function create(input: Record<string, unknown>) {
  return app.graphql<{ createVirtualServer: VirtualServerAnswer }>({
    query: print(CreateVirtualServerDocument),
    variables: { input },
    key,
  });
}

const names = (tools: readonly Tool[] | undefined) => tools?.map((tool) => tool.name);

describe('virtual servers', () => {
  let search: { id: string; upstream: Awaited<ReturnType<typeof startStreamableHttpServer>> };
  let files: { id: string };

  beforeAll(async () => {
    search = await register('Search Service', [
      { name: 'search', description: 'Searches.' },
      { name: 'status' },
    ]);
    files = await register('files', [{ name: 'read' }, { name: 'status' }]);
  });

  it('PREFIXED shows every tool as {prefix}__{tool}, by name, with the endpoint agents connect to', async () => {
    const { data, errors } = await create({
      name: 'prefixed',
      members: [{ serverId: search.id }, { serverId: files.id, prefix: 'fs' }],
    });
    expect(errors).toBeUndefined();
    const created = data?.createVirtualServer;
    expect(created?.endpointUrl).toBe(`${app.origin}/mcp/${created?.id}`);
    expect(created?.tools).toEqual([
      { name: 'Search_Service__search', toolName: 'search', server: { id: search.id } },
      { name: 'Search_Service__status', toolName: 'status', server: { id: search.id } },
      { name: 'fs__read', toolName: 'read', server: { id: files.id } },
      { name: 'fs__status', toolName: 'status', server: { id: files.id } },
    ]);
  });

  it('ON_CONFLICT prefixes only the names two members offer; overrides rename and re-describe', async () => {
    const { data, errors } = await create({
      name: 'on-conflict',
      toolNaming: 'ON_CONFLICT',
      members: [
        {
          serverId: search.id,
          prefix: 'web',
          overrides: [{ toolName: 'search', name: 'find', description: 'Finds.' }],
        },
        { serverId: files.id, prefix: 'fs' },
      ],
    });
    expect(errors).toBeUndefined();
    expect(names(data?.createVirtualServer.tools)).toEqual(['find', 'fs__status', 'read', 'web__status']);
    const detail = await app.graphql<{ virtualServer: { tools: Tool[] } }>({
      query: print(VirtualServerDetailDocument),
      variables: { id: data?.createVirtualServer.id },
      key,
    });
    expect(detail.data?.virtualServer.tools.find((tool) => tool.name === 'find')).toMatchObject({
      description: 'Finds.',
      toolName: 'search',
    });
  });

  it('AS_IS refuses a name two members offer, naming the tool and both servers, and creates nothing', async () => {
    const before = await app.orm.em.fork().count('VirtualServer');
    const { data, errors } = await create({
      name: 'as-is',
      toolNaming: 'AS_IS',
      members: [{ serverId: search.id }, { serverId: files.id }],
    });
    expect(data ?? null).toBeNull();
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(errors?.[0]?.message).toMatch(/"status": servers "Search Service" and "files"/);
    expect(await app.orm.em.fork().count('VirtualServer')).toBe(before);
    // Chosen tools that do not clash are fine.
    const chosen = await create({
      name: 'as-is-chosen',
      toolNaming: 'AS_IS',
      members: [{ serverId: search.id, toolNames: ['search'] }, { serverId: files.id }],
    });
    expect(chosen.errors).toBeUndefined();
    expect(names(chosen.data?.createVirtualServer.tools)).toEqual(['read', 'search', 'status']);
  });

  it('refuses unknown tools, bad prefixes and servers twice with BAD_USER_INPUT, unknown servers with NOT_FOUND', async () => {
    const cases: [Record<string, unknown>[], string][] = [
      [[{ serverId: search.id, toolNames: ['nope'] }], 'BAD_USER_INPUT'],
      [[{ serverId: search.id, prefix: 'has space' }], 'BAD_USER_INPUT'],
      [[{ serverId: search.id }, { serverId: search.id }], 'BAD_USER_INPUT'],
      [[], 'BAD_USER_INPUT'],
      [[{ serverId: '00000000-0000-4000-8000-000000000000' }], 'NOT_FOUND'],
    ];
    for (const [members, code] of cases) {
      const { errors } = await create({ name: 'bad', members });
      expect({ members, code: errors?.[0]?.extensions?.code }).toEqual({ members, code });
    }
  });

  it('follows discovery: a member with all tools picks up new ones, vanished tools and deleted servers drop out', async () => {
    const { data } = await create({
      name: 'following',
      members: [
        { serverId: search.id, prefix: 's' },
        { serverId: files.id, prefix: 'f', toolNames: ['read'] },
      ],
    });
    const id = data?.createVirtualServer.id;
    await search.upstream.change(
      {
        tools: [
          { name: 'search', inputSchema: { type: 'object' } },
          { name: 'suggest', inputSchema: { type: 'object' } },
        ],
      },
      [],
    );
    const refreshed = await app.graphql({
      query: 'mutation ($id: ID!) { refreshServerCapabilities(id: $id) { id } }',
      variables: { id: search.id },
      key,
    });
    expect(refreshed.errors).toBeUndefined();
    const detail = async () =>
      (
        await app.graphql<{ virtualServer: { tools: Tool[]; members: { server: { id: string } }[] } }>({
          query: print(VirtualServerDetailDocument),
          variables: { id },
          key,
        })
      ).data?.virtualServer;
    expect(names((await detail())?.tools)).toEqual(['f__read', 's__search', 's__suggest']);

    const other = await register('disposable', [{ name: 'once' }]);
    await app.graphql({
      query: print(UpdateVirtualServerDocument),
      variables: { id, input: { members: [{ serverId: files.id, prefix: 'f' }, { serverId: other.id }] } },
      key,
    });
    expect(names((await detail())?.tools)).toEqual(['disposable__once', 'f__read', 'f__status']);
    await app.graphql({
      query: 'mutation ($id: ID!) { deleteServer(id: $id) }',
      variables: { id: other.id },
      key,
    });
    const after = await detail();
    expect(after?.members.map((member) => member.server.id)).toEqual([files.id]);
    expect(names(after?.tools)).toEqual(['f__read', 'f__status']);
  });

  it('changing the naming mode is refused when the present members would clash', async () => {
    // files and its mirror both offer `read`: prefixed apart now, a clash AS_IS.
    const mirror = await register('files-mirror', [{ name: 'read' }]);
    const { data } = await create({
      name: 'switch',
      members: [{ serverId: files.id }, { serverId: mirror.id }],
    });
    const switched = await app.graphql({
      query: print(UpdateVirtualServerDocument),
      variables: { id: data?.createVirtualServer.id, input: { toolNaming: 'AS_IS' } },
      key,
    });
    expect(switched.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('changing the naming mode is not refused because a chosen tool has vanished since', async () => {
    const fading = await register('fading', [{ name: 'old' }, { name: 'kept' }]);
    const { data } = await create({
      name: 'fading-vs',
      members: [{ serverId: fading.id, toolNames: ['old', 'kept'] }],
    });
    await fading.upstream.change({ tools: [{ name: 'kept', inputSchema: { type: 'object' } }] }, []);
    const refreshed = await app.graphql({
      query: 'mutation ($id: ID!) { refreshServerCapabilities(id: $id) { id } }',
      variables: { id: fading.id },
      key,
    });
    expect(refreshed.errors).toBeUndefined();
    const switched = await app.graphql<{ updateVirtualServer: { toolNaming: string; tools: Tool[] } }>({
      query: print(UpdateVirtualServerDocument),
      variables: { id: data?.createVirtualServer.id, input: { toolNaming: 'AS_IS' } },
      key,
    });
    expect(switched.errors).toBeUndefined();
    expect(switched.data?.updateVirtualServer.toolNaming).toBe('AS_IS');
    expect(names(switched.data?.updateVirtualServer.tools)).toEqual(['kept']);
  });

  it('lists a page in a constant number of statements, however many virtual servers and members it has', async () => {
    const list = () =>
      app.countStatements(() =>
        app.graphql({ query: print(VirtualServerListDocument), variables: { first: 100 }, key }),
      );
    const few = await list();
    expect(few.result.errors).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      await create({ name: `more-${i}`, members: [{ serverId: search.id }, { serverId: files.id }] });
    }
    const many = await list();
    expect(many.result.errors).toBeUndefined();
    expect(many.statements.length).toBe(few.statements.length);
    expect(many.statements.length).toBeLessThanOrEqual(6);
  });

  it('needs WRITE to manage and READ to read, and audits every change', async () => {
    const readOnly = await seed(app.orm).key([ApiKeyScope.READ]);
    const tenant = await app.graphql<{ virtualServers: { totalCount: number } }>({
      query: print(VirtualServerListDocument),
      key,
    });
    const refused = await app.graphql({
      query: print(CreateVirtualServerDocument),
      variables: { input: { name: 'nope', tenantId, members: [{ serverId: search.id }] } },
      key: readOnly.key,
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { data } = await create({ name: 'audited', members: [{ serverId: search.id }] });
    const id = data?.createVirtualServer.id;
    const deleted = await app.graphql({ query: print(DeleteVirtualServerDocument), variables: { id }, key });
    expect(deleted.data).toEqual({ deleteVirtualServer: true });
    const audit = await app.orm.em
      .fork()
      .execute<{ action: string; success: boolean }[]>(
        'select action, success from audit_logs where resource_id = ? order by created_at',
        [id],
      );
    expect(audit).toEqual([
      { action: 'virtual_server.create', success: true },
      { action: 'virtual_server.delete', success: true },
    ]);
    expect(tenant.data?.virtualServers.totalCount).toBeGreaterThan(0);
  });
});
