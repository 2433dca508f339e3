import { type ChildProcess, spawn } from 'node:child_process';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { HealthCheck } from '../src/health/health-check.entity.js';
import { TransportType } from '../src/registry/registry.enums.js';
import { RegisterServerDocument } from './sdk/graphql.js';
import { ADMIN_KEY, startTestApp, TEST_ENCRYPTION_KEY, type TestApp } from './support/app.js';
import { createPostgresDatabase, postgresAvailable, type TestDatabase } from './support/database.js';
import { eventually } from './support/eventually.js';
import { captureLines } from './support/log-capture.js';
import {
  type ChangingServer,
  closedAfterAll,
  fullCatalog,
  type ServerCatalog,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';

const started = closedAfterAll();

/**
 * The watcher on, with short leases; probes and scheduled refreshes an hour apart, so a change that shows
 * up in the registry within a test was read because the server announced it.
 */
const WATCHING = {
  HEALTH_CHECKER: 'on',
  HEALTH_CHECK_INTERVAL_MS: '3600000',
  CAPABILITY_REFRESH_INTERVAL_MS: '3600000',
  HEALTH_CHECK_TIMEOUT_MS: '3000',
  CAPABILITY_WATCH_LEASE_MS: '900',
  CAPABILITY_WATCH_RETRY_MS: '100',
  LOG_LEVEL: 'info',
};

const QUIET_WATCHING = { ...WATCHING, LOG_LEVEL: 'silent' };

const announcing: ServerCatalog = { ...fullCatalog, listChanged: ['tools', 'resources', 'prompts'] };
const newTool = { name: 'brand_new', inputSchema: { type: 'object' as const } };

interface LogLine {
  msg: string;
  serverId?: string;
  cause?: string;
  owner?: string;
}
const parsed = (lines: readonly string[]) => lines.map((line) => JSON.parse(line) as LogLine);
const logged = (lines: readonly string[], msg: string, serverId: string, cause?: string) =>
  parsed(lines).filter(
    (line) => line.msg === msg && line.serverId === serverId && (cause === undefined || line.cause === cause),
  ).length;

/** Once the session is open and the refresh it starts with is done, later reads come from notifications. */
const WATCHING_MSG = 'watching server for list changes';
const REFRESHED_MSG = 'capabilities refreshed by the watcher';

async function register(app: TestApp, key: string, input: Record<string, unknown>): Promise<string> {
  const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
    query: print(RegisterServerDocument),
    variables: { input },
    key,
  });
  expect(errors).toBeUndefined();
  return data?.registerServer.id ?? '';
}

interface Catalog {
  tools: { name: string }[];
  resources: { uriTemplate: string }[];
  prompts: { name: string }[];
}

async function catalogOf(app: TestApp, key: string, id: string): Promise<Catalog> {
  const { data } = await app.graphql<{ server: Catalog }>({
    query:
      'query ($id: ID!) { server(id: $id) { tools { name } resources { uriTemplate } prompts { name } } }',
    variables: { id },
    key,
  });
  return data?.server ?? { tools: [], resources: [], prompts: [] };
}

const toolNames = async (app: TestApp, key: string, id: string) =>
  (await catalogOf(app, key, id)).tools.map((tool) => tool.name);

interface LeaseRow {
  server_id: string;
  owner: string;
  /** Epoch milliseconds. */
  expires_at: number;
  updated_at: number;
}
const leases = (app: TestApp): Promise<LeaseRow[]> =>
  app.orm.em.fork().execute(
    `select server_id, owner, (extract(epoch from expires_at) * 1000)::float8 as expires_at,
              (extract(epoch from updated_at) * 1000)::float8 as updated_at
       from capability_watch_leases`,
  );

describe.skipIf(!postgresAvailable())('the capability watcher', () => {
  let db: TestDatabase;
  let app: TestApp;
  let key: string;
  const lines: string[] = [];

  beforeAll(async () => {
    db = await createPostgresDatabase();
    app = await startTestApp(db.target, WATCHING, { logTo: captureLines(lines) });
    ({ key } = await (await seed(app.orm).tenant('watched')).key([ApiKeyScope.READ, ApiKeyScope.WRITE]));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const servers: [string, () => Promise<ChangingServer>, string][] = [
    ['a 2025-era Streamable HTTP', () => startStreamableHttpServer(announcing), 'STREAMABLE_HTTP'],
    ['a legacy SSE', () => startSseServer(announcing), 'SSE'],
    ['a 2026-07-28', () => startModernServer(announcing), 'STREAMABLE_HTTP'],
  ];

  it.each(servers)(
    'reads %s server again as soon as it announces a change',
    async (kind, start, transportType) => {
      const server = await started(start());
      const id = await register(app, key, {
        name: `watched ${kind}`,
        endpointUrl: server.url,
        transportType,
      });
      await eventually(() => server.listeners() === 1, 'the watcher listens');
      await eventually(
        () => logged(lines, REFRESHED_MSG, id, 'connected') === 1,
        'the opening refresh is done',
      );
      expect(await toolNames(app, key, id)).not.toContain(newTool.name);

      await server.change({ tools: [...(fullCatalog.tools ?? []), newTool] }, ['tools']);
      await eventually(
        async () => (await toolNames(app, key, id)).includes(newTool.name),
        'the new tool shows',
      );

      await server.change(
        { resources: [{ uri: 'docs://added', name: 'added' }], prompts: [{ name: 'review' }] },
        ['resources', 'prompts'],
      );
      await eventually(async () => {
        const { resources, prompts } = await catalogOf(app, key, id);
        return resources.some((r) => r.uriTemplate === 'docs://added') && prompts.length === 1;
      }, 'the resource and prompt changes show');
      const { resources, prompts } = await catalogOf(app, key, id);
      expect(resources.map((r) => r.uriTemplate)).not.toContain('docs://readme');
      expect(prompts.map((p) => p.name)).toEqual(['review']);
    },
  );

  it('releases a session whose server drops the stream and opens a new one later', async () => {
    const server = await started(startStreamableHttpServer(announcing));
    const id = await register(app, key, {
      name: 'dropping',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    await eventually(() => logged(lines, REFRESHED_MSG, id, 'connected') === 1, 'the first session is open');

    server.dropListeners();
    await eventually(() => logged(lines, 'capability watch session lost', id) === 1, 'the loss is noticed');
    await eventually(() => logged(lines, WATCHING_MSG, id) === 2, 'a second session opens');
    await eventually(() => server.listeners() === 1, 'the server sees it');

    await server.change({ tools: [newTool] }, ['tools']);
    await eventually(async () => (await toolNames(app, key, id)).join() === newTool.name, 'the change shows');
  });

  it('never watches servers without listChanged, STDIO or WEBSOCKET servers, or servers whose headers do not open', async () => {
    const quiet = await started(startStreamableHttpServer({ ...fullCatalog, listChanged: [] }));
    const quietId = await register(app, key, {
      name: 'quiet',
      endpointUrl: quiet.url,
      transportType: 'STREAMABLE_HTTP',
    });

    const requests: (string | undefined)[] = [];
    const token = 'watch-token-5f4e3d2c1b0a';
    const locked = await started(
      startStreamableHttpServer(
        { ...fullCatalog, listChanged: [] },
        { bearerToken: token, onRequest: (auth) => requests.push(auth) },
      ),
    );
    const lockedId = await register(app, key, {
      name: 'locked',
      endpointUrl: locked.url,
      transportType: 'STREAMABLE_HTTP',
      headers: { Authorization: `Bearer ${token}` },
    });

    // Its first probe (with the headers still intact) done before they are altered.
    await eventually(
      async () => (await app.orm.em.fork().count(HealthCheck, { server: lockedId })) > 0,
      'the locked server is probed once',
    );

    const tenant = await seed(app.orm).tenant('declared');
    const declared = await tenant.servers([
      { name: 'stdio', transportType: TransportType.STDIO },
      { name: 'websocket', transportType: TransportType.WEBSOCKET },
    ]);
    const em = app.orm.em.fork();
    // Made watchable in every other respect: announcing list changes, read from the server.
    const announce = `capabilities = '{"tools": {"listChanged": true}}', capabilities_discovered = true`;
    await em.execute(`update mcp_servers set ${announce} where id = any(?)`, [
      `{${declared.map((s) => s.id).join(',')}}`,
    ]);
    // The locked server's sealed headers altered by one bit, then its capabilities made watchable.
    const [row] = await em.execute<{ stored: string }[]>(
      'select connection_headers::text as stored from mcp_servers where id = ?',
      [lockedId],
    );
    const envelope = JSON.parse(row?.stored ?? '{}') as { ct: string };
    const ct = Buffer.from(envelope.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    await em.execute(`update mcp_servers set connection_headers = ?, ${announce} where id = ?`, [
      JSON.stringify({ ...envelope, ct: ct.toString('base64') }),
      lockedId,
    ]);
    const requestsBefore = requests.length;

    // A server that is watched, registered last: once it is, the watcher has looked at the others.
    const control = await started(startStreamableHttpServer(announcing));
    const controlId = await register(app, key, {
      name: 'control',
      endpointUrl: control.url,
      transportType: 'STREAMABLE_HTTP',
    });
    await eventually(() => control.listeners() === 1, 'the control server is watched');
    const notWatched = 'stored connection headers cannot be opened: not watched';
    await eventually(() => logged(lines, notWatched, lockedId) > 0, 'the locked server is passed over');

    // Their first probes (short sessions of their own) are done: any session from now on would be a watch.
    await eventually(
      async () => (await app.orm.em.fork().count(HealthCheck, { server: [quietId, lockedId] })) >= 2,
      'the first probes are done',
    );
    const leased = (await leases(app)).map((lease) => lease.server_id);
    expect(leased).toContain(controlId);
    for (const id of [quietId, ...declared.map((s) => s.id)]) expect(leased).not.toContain(id);
    expect(app.capabilityWatcher?.watchedServers()).not.toContain(lockedId);
    expect(quiet.listeners()).toBe(0);
    expect(locked.listeners()).toBe(0);
    expect(requests.length).toBe(requestsBefore);
    expect(lines.filter((line) => line.includes(token))).toEqual([]);
  });

  it('runs only where the health checker runs, and not at all with CAPABILITY_WATCH_MAX=0', async () => {
    for (const env of [
      { ...QUIET_WATCHING, CAPABILITY_WATCH_MAX: '0' },
      { ...QUIET_WATCHING, HEALTH_CHECKER: 'off' },
    ]) {
      const instance = await startTestApp(db.target, env);
      expect(instance.capabilityWatcher).toBeNull();
      await instance.close();
    }
  });
});

/** Leases long enough that a busy machine renews them in time, short enough to wait for one to expire. */
const SHARED = { ...WATCHING, CAPABILITY_WATCH_LEASE_MS: '2000' };

describe.skipIf(!postgresAvailable())('capability watching across instances', () => {
  let db: TestDatabase;
  const instances: TestApp[] = [];
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createPostgresDatabase();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all(instances.map((instance) => instance.close()));
    await db?.drop();
  });

  it('keeps one session per server, and hands it over when its instance closes', async () => {
    // One after the other: the first applies the migrations.
    const lines: string[] = [];
    const a = await startTestApp(db.target, SHARED, { logTo: captureLines(lines) });
    const b = await startTestApp(db.target, SHARED, { logTo: captureLines(lines) });
    instances.push(a, b);
    const { key } = await (await seed(a.orm).tenant('shared')).key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    const server = await started(startStreamableHttpServer(announcing));
    const id = await register(a, key, {
      name: 'shared',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });

    const holders = () =>
      [a, b].filter((instance) => instance.capabilityWatcher?.watchedServers().includes(id));
    await eventually(() => holders().length === 1 && server.listeners() === 1, 'one instance watches');
    // Sessions of the first probe and of the refresh a watch opens with come and go; then only watches stay.
    await eventually(
      () => logged(lines, REFRESHED_MSG, id, 'connected') === 1,
      'the opening refresh is done',
    );
    await eventually(
      async () => (await a.orm.em.fork().count(HealthCheck, { server: id })) > 0,
      'the first probe is done',
    );
    const [first] = await leases(a);
    // Through several renewals (a lease lasts 2 s, renewed every third of it) the same one keeps it.
    await eventually(
      async () => ((await leases(a))[0]?.updated_at ?? 0) > (first?.updated_at ?? 0) + 2000,
      'the lease is renewed for a while',
    );
    const owner = holders()[0];
    expect(holders()).toHaveLength(1);
    expect(server.listeners()).toBe(1);
    expect((await leases(a)).map((lease) => lease.owner)).toEqual([owner?.capabilityWatcher?.owner]);

    const other = owner === a ? b : a;
    await owner?.close();
    await eventually(
      () => other.capabilityWatcher?.watchedServers().includes(id) === true,
      'the other takes over',
    );
    await eventually(() => server.listeners() === 1, 'the server sees one session');
    await eventually(
      () => logged(lines, REFRESHED_MSG, id, 'connected') === 2,
      'its opening refresh is done',
    );
    await server.change({ tools: [newTool] }, ['tools']);
    await eventually(
      async () => (await toolNames(other, key, id)).join() === newTool.name,
      'the change shows',
    );
  });

  it('takes over the watches of an instance that died once their leases expire', async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    instances.length = 0;

    // The instance that dies: a real process, killed without a chance to release anything.
    const output: string[] = [];
    child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      env: {
        ...process.env,
        ...SHARED,
        REDIS_URL: '',
        DATABASE_URL: db.target.kind === 'postgres' ? db.target.url : '',
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_KEY: ADMIN_KEY,
        ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const pid = child.pid ?? 0;
    await eventually(
      () => output.join('').includes('MCP registry gateway listening'),
      'the process listens',
      60_000,
    );

    const server = await started(startStreamableHttpServer(announcing));
    const survivorApp = await startTestApp(db.target, {
      ...SHARED,
      LOG_LEVEL: 'silent',
      HEALTH_CHECKER: 'off',
    });
    instances.push(survivorApp);
    const { key } = await (await seed(survivorApp.orm).tenant('orphaned')).key([
      ApiKeyScope.READ,
      ApiKeyScope.WRITE,
    ]);
    const id = await register(survivorApp, key, {
      name: 'orphaned',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const ownedByChild = async () =>
      (await leases(survivorApp)).find((lease) => lease.server_id === id)?.owner;
    await eventually(
      async () => (await ownedByChild())?.includes(`:${pid}:`) === true,
      'the process watches',
    );
    await eventually(() => server.listeners() === 1, 'the server sees its session');

    const lines: string[] = [];
    const heir = await startTestApp(db.target, SHARED, { logTo: captureLines(lines) });
    instances.push(heir);
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    const [orphaned] = (await leases(heir)).filter((lease) => lease.server_id === id);

    await eventually(
      () => heir.capabilityWatcher?.watchedServers().includes(id) === true,
      'the heir takes over',
    );
    const [taken] = (await leases(heir)).filter((lease) => lease.server_id === id);
    expect(taken?.owner).toBe(heir.capabilityWatcher?.owner);
    // Claimed only once the dead process's lease had expired.
    expect(taken?.updated_at).toBeGreaterThanOrEqual(orphaned?.expires_at ?? Infinity);
    await eventually(() => server.listeners() === 1, 'the server sees one session');
    await eventually(
      () => logged(lines, REFRESHED_MSG, id, 'connected') === 1,
      'its opening refresh is done',
    );

    await server.change({ tools: [newTool] }, ['tools']);
    await eventually(
      async () => (await toolNames(heir, key, id)).join() === newTool.name,
      'the change shows',
    );
  }, 120_000);
});
