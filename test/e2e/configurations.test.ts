import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractOperation, contractOperations } from '../support/contract-operations.js';
import {
  createPostgresDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from '../support/database.js';
import { caseRandom, fuzzKit, httpCase } from '../support/fuzz.js';
import { httpProblems, sendProbe } from '../support/fuzz-answers.js';
import { fullCatalog, startStreamableHttpServer } from '../support/mcp-servers.js';
import { subscribe } from '../support/subscriptions.js';
import {
  type GraphQLAnswer,
  postGraphql,
  productionEnvironment,
  runCli,
  type ServerProcess,
  startServerProcess,
  userEnvironment,
} from './support/server-process.js';

/**
 * The supported configurations, each as users run it: the built server started as `npm start` starts it,
 * configured by environment alone, driven over HTTP and graphql-ws only. Every configuration answers every
 * contract operation and every bad input the same way.
 */
interface Configuration {
  readonly name: string;
  readonly embedded: boolean;
  /** Prepares the configuration; returns the environment and an admin key, and how to clean up. */
  prepare(workDir: string): Promise<{ env: NodeJS.ProcessEnv; adminKey: string; cleanUp(): Promise<void> }>;
}

const UPSTREAM_TOKEN = `upstream-${randomUUID()}`;
/** Only timing: a circuit that opens is tried again after a second, not after the default 30 s. */
const TIMING = { CIRCUIT_OPEN_TIMEOUT_MS: '1000' };

const embedded: Configuration = {
  name: 'embedded PGlite, no configuration, development mode',
  embedded: true,
  async prepare(workDir) {
    // Nothing but a free port (and the circuit timing): the data directory is `.data` under the working
    // directory, the encryption key is made there, and the first admin key comes from the CLI, as in the README.
    const env = userEnvironment({ PORT: '0', ...TIMING });
    const created = await runCli(workDir, env, ['key', 'create', '--name', 'e2e', '--scopes', 'admin']);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    return { env, adminKey: created.stdout.trim(), cleanUp: async () => {} };
  },
};

const production: Configuration = {
  name: 'PostgreSQL + Redis, NODE_ENV=production',
  embedded: false,
  async prepare() {
    const database: TestDatabase = await createPostgresDatabase();
    const adminKey = `e2e-admin-${randomUUID()}`;
    const databaseUrl = database.target.kind === 'postgres' ? database.target.url : '';
    const env = productionEnvironment(databaseUrl, adminKey, TIMING);
    return { env, adminKey, cleanUp: () => database.drop() };
  },
};

const runsHere = postgresAvailable() && redisAvailable();

describe.skipIf(!runsHere).each([embedded, production])('$name', (configuration) => {
  let workDir: string;
  let env: NodeJS.ProcessEnv;
  let adminKey: string;
  let cleanUp: () => Promise<void>;
  let server: ServerProcess;
  let upstream: Awaited<ReturnType<typeof startStreamableHttpServer>>;
  let upstreamPort: number;
  /** What the contract walk made, for the tests after it. */
  const made: { tenantId?: string; tenantKey?: string; serverId?: string } = {};

  const call = <T = Record<string, unknown>>(
    name: string,
    variables: Record<string, unknown> = {},
    key: string | null = adminKey,
  ) => postGraphql<T>(server.url, key, contractOperation(name), variables);
  const ok = async <T = Record<string, unknown>>(
    name: string,
    variables: Record<string, unknown> = {},
    key: string | null = adminKey,
  ): Promise<T> => {
    const answer = await call<T>(name, variables, key);
    expect({ name, errors: answer.errors }).toEqual({ name, errors: undefined });
    expect(answer.status).toBe(200);
    return answer.data as T;
  };

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'mcp-e2e-'));
    ({ env, adminKey, cleanUp } = await configuration.prepare(workDir));
    upstream = await startStreamableHttpServer(
      { ...fullCatalog, name: 'e2e-upstream' },
      { bearerToken: UPSTREAM_TOKEN },
    );
    upstreamPort = Number(new URL(upstream.url).port);
    server = await startServerProcess(workDir, env);
  });

  afterAll(async () => {
    const code = await server?.stop();
    await upstream?.close();
    await cleanUp?.();
    await rm(workDir, { recursive: true, force: true });
    // Stopping is part of what users run: it must end cleanly here too.
    expect(code).toBe(0);
  });

  it('answers every contract operation with good input', async () => {
    const ran = new Set<string>();
    const run = async <T = Record<string, unknown>>(
      name: string,
      variables: Record<string, unknown> = {},
      key: string | null = adminKey,
    ) => {
      ran.add(name);
      return ok<T>(name, variables, key);
    };

    await run('Viewer');
    const { createTenant } = await run<{ createTenant: { id: string } }>('CreateTenant', {
      input: { name: 'e2e-co', settings: { plan: 'team' } },
    });
    made.tenantId = createTenant.id;
    await run('UpdateTenant', { id: made.tenantId, input: { settings: { plan: 'enterprise' } } });
    await run('TenantList', { first: 10 });
    await run('CreateUser', { input: { username: 'ada', email: 'ada@e2e.test', tenantId: made.tenantId } });
    await run('UserList', { first: 10 });
    const { createApiKey } = await run<{ createApiKey: { key: string; apiKey: { id: string } } }>(
      'CreateApiKey',
      {
        input: { name: 'e2e-tenant', tenantId: made.tenantId, scopes: ['READ', 'WRITE', 'PROXY', 'HEALTH'] },
      },
    );
    made.tenantKey = createApiKey.key;
    const tenantKey = made.tenantKey;
    await run('ApiKeyList', { first: 10 });

    const { registerServer } = await run<{ registerServer: { id: string; tools: { name: string }[] } }>(
      'RegisterServer',
      {
        input: {
          name: 'e2e-upstream',
          endpointUrl: upstream.url,
          transportType: 'STREAMABLE_HTTP',
          headers: { Authorization: `Bearer ${UPSTREAM_TOKEN}` },
          failureThreshold: 2,
          tags: ['e2e'],
        },
      },
      tenantKey,
    );
    made.serverId = registerServer.id;
    expect(registerServer.tools.map((tool) => tool.name)).toContain('search');
    const serverId = made.serverId;
    const list = await run<{ servers: { totalCount: number } }>('ServerList', { first: 100 }, tenantKey);
    expect(list.servers.totalCount).toBe(1);
    await run('ServerListWithToolSchemas', { first: 100 }, tenantKey);
    await run('ServerDetail', { id: serverId }, tenantKey);
    const discovered = await run<{ servers: { edges: unknown[] } }>(
      'DiscoverServers',
      { tools: ['search'], first: 10 },
      tenantKey,
    );
    expect(discovered.servers.edges).toBeDefined();
    await run('SearchServers', { search: 'e2e', first: 10 }, tenantKey);
    // A typo of the upstream's tool, found as it is called: discovered tools are searchable at once.
    const found = await run<{ searchTools: { edges: { node: { tool: { name: string } } }[] } }>(
      'SearchTools',
      { query: 'serch', first: 5 },
      tenantKey,
    );
    expect(found.searchTools.edges.map((edge) => edge.node.tool.name)).toContain('search');
    await run('UpdateServer', { id: serverId, input: { description: 'driven end to end' } }, tenantKey);
    await run('RefreshServerCapabilities', { id: serverId }, tenantKey);
    await run('CheckServerHealth', { id: serverId }, tenantKey);
    await run('ResetCircuitBreaker', { serverId }, tenantKey);

    const { createRoutingRule } = await run<{ createRoutingRule: { id: string } }>(
      'CreateRoutingRule',
      { input: { name: 'searches', conditions: { toolName: 'search*' }, targetServerIds: [serverId] } },
      tenantKey,
    );
    await run('RoutingRuleList', {}, tenantKey);
    const called = await run<{ callTool: { serverId: string; isError: boolean } }>(
      'CallTool',
      { input: { toolName: 'search', arguments: { query: 'e2e' } } },
      tenantKey,
    );
    expect(called.callTool).toMatchObject({ serverId, isError: false });
    await run('DeleteRoutingRule', { id: createRoutingRule.id }, tenantKey);

    const { createVirtualServer } = await run<{
      createVirtualServer: { id: string; endpointUrl: string; tools: { name: string }[] };
    }>(
      'CreateVirtualServer',
      { input: { name: 'agents', members: [{ serverId, prefix: 'up' }] } },
      tenantKey,
    );
    expect(createVirtualServer.endpointUrl).toBe(`${server.origin}/mcp/${createVirtualServer.id}`);
    expect(createVirtualServer.tools.map((tool) => tool.name)).toContain('up__search');
    await run('VirtualServerList', { first: 10 }, tenantKey);
    await run('VirtualServerDetail', { id: createVirtualServer.id }, tenantKey);
    await run(
      'UpdateVirtualServer',
      { id: createVirtualServer.id, input: { toolNaming: 'AS_IS', description: 'one upstream' } },
      tenantKey,
    );
    await run('DeleteVirtualServer', { id: createVirtualServer.id }, tenantKey);

    const spare = await run<{ registerServer: { id: string } }>(
      'RegisterServer',
      {
        input: {
          name: 'e2e-declared',
          endpointUrl: 'http://127.0.0.1:9/mcp',
          transportType: 'STREAMABLE_HTTP',
          discover: false,
          tools: [{ name: 'noop' }],
        },
      },
      tenantKey,
    );
    await run('DeleteServer', { id: spare.registerServer.id }, tenantKey);

    // The tenant's own Registry API as the upstream of another tenant: its one server comes back under its
    // registry name, and a second run changes nothing.
    const mirror = await run<{ createTenant: { id: string } }>('CreateTenant', {
      input: { name: 'e2e-mirror' },
    });
    const importInput = {
      url: server.origin,
      tenantId: mirror.createTenant.id,
      headers: { Authorization: `Bearer ${tenantKey}` },
    };
    const imported = await run<{ importRegistryServers: { created: number; skipped: unknown[] } }>(
      'ImportRegistryServers',
      { input: importInput },
    );
    expect(imported.importRegistryServers).toMatchObject({ created: 1, skipped: [] });
    const again = await run<{ importRegistryServers: { created: number; updated: number } }>(
      'ImportRegistryServers',
      { input: importInput },
    );
    expect(again.importRegistryServers).toMatchObject({ created: 0, updated: 0 });
    const [importedServer] = (
      await run<{ servers: { edges: { node: { id: string; name: string } }[] } }>('SearchServers', {
        search: 'local.mcp-gateway',
        first: 10,
      })
    ).servers.edges;
    expect(importedServer?.node.name).toBe('local.mcp-gateway.e2e-co/e2e-upstream');
    await run('DeleteServer', { id: importedServer?.node.id });

    await run('DashboardOverview', { hours: 24 }, tenantKey);
    await run('TenantUsage', { tenantId: made.tenantId, hours: 24 }, tenantKey);
    await run('AuditLogList', { first: 20 }, tenantKey);
    await run('RequestLogList', { first: 20 }, tenantKey);
    await run('Maintenance');
    const doomed = await run<{ createApiKey: { apiKey: { id: string } } }>('CreateApiKey', {
      input: { name: 'e2e-doomed', tenantId: made.tenantId, scopes: ['READ'] },
    });
    await run('UnlockApiKey', { id: doomed.createApiKey.apiKey.id });
    await run('RevokeApiKey', { id: doomed.createApiKey.apiKey.id });

    // Subscriptions have their own test; every query and mutation of the contract ran here.
    const expected = contractOperations()
      .filter((op) => op.definition.operation !== 'subscription')
      .map((op) => op.name);
    expect([...ran].sort()).toEqual([...new Set(expected)].sort());
  });

  it('answers bad input with the same codes, changing nothing', async () => {
    const tenantKey = made.tenantKey ?? '';
    const readOnly = await ok<{ createApiKey: { key: string } }>('CreateApiKey', {
      input: { name: 'e2e-read', tenantId: made.tenantId, scopes: ['READ'] },
    });
    const before = await ok<{ servers: { totalCount: number } }>('ServerList', { first: 1 });
    const cases: [string, () => Promise<GraphQLAnswer>, number, string][] = [
      ['an unknown id', () => call('ServerDetail', { id: randomUUID() }, tenantKey), 200, 'NOT_FOUND'],
      ['an id that is no id', () => call('ServerDetail', { id: 'x' }, tenantKey), 200, 'NOT_FOUND'],
      ['a negative page size', () => call('ServerList', { first: -1 }, tenantKey), 200, 'BAD_USER_INPUT'],
      ['a page over the cap', () => call('ServerList', { first: 101 }, tenantKey), 200, 'BAD_USER_INPUT'],
      [
        'a bad enum value',
        () => call('SearchServers', { search: 'x', transport: ['CARRIER_PIGEON'] }, tenantKey),
        400,
        'BAD_USER_INPUT',
      ],
      [
        'an endpoint that is no URL',
        () =>
          call(
            'RegisterServer',
            { input: { name: 'bad', endpointUrl: 'not a url', transportType: 'STREAMABLE_HTTP' } },
            tenantKey,
          ),
        200,
        'BAD_USER_INPUT',
      ],
      [
        'a write with a READ key',
        () =>
          call(
            'RegisterServer',
            {
              input: {
                name: 'x',
                endpointUrl: 'http://127.0.0.1:9/mcp',
                transportType: 'SSE',
                discover: false,
              },
            },
            readOnly.createApiKey.key,
          ),
        200,
        'FORBIDDEN',
      ],
      ['no key', () => call('Viewer', {}, null), 401, 'UNAUTHENTICATED'],
      ['an unknown key', () => call('Viewer', {}, `mcp_${randomUUID()}`), 401, 'UNAUTHENTICATED'],
    ];
    for (const [label, send, status, code] of cases) {
      const answer = await send();
      expect({ label, status: answer.status, codes: answer.errors?.map((e) => e.extensions?.code) }).toEqual({
        label,
        status,
        codes: [code],
      });
      expect(JSON.stringify(answer.errors)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
    const after = await ok<{ servers: { totalCount: number } }>('ServerList', { first: 1 });
    expect(after.servers.totalCount).toBe(before.servers.totalCount);
  });

  it('delivers live health and circuit changes as the upstream stops and comes back', async () => {
    const tenantKey = made.tenantKey ?? '';
    const serverId = made.serverId ?? '';
    const health = subscribe(server, tenantKey, contractOperation('ServerHealthChanged'), { serverId });
    const circuit = subscribe(server, tenantKey, contractOperation('CircuitBreakerChanged'), { serverId });
    type Health = { serverHealthChanged: { status: string } };
    type Circuit = { circuitBreakerChanged: { state: string } };
    const statuses = () => (health.events as Health[]).map((event) => event.serverHealthChanged.status);
    const states = () => (circuit.events as Circuit[]).map((event) => event.circuitBreakerChanged.state);
    try {
      await Promise.all([health.until(1), circuit.until(1)]);
      expect(health.errors).toEqual([]);
      expect(circuit.errors).toEqual([]);
      // The first state is the current one: probed and healthy, circuit closed.
      expect(statuses()).toEqual(['HEALTHY']);
      expect(states()).toEqual(['CLOSED']);

      await upstream.close();
      for (let i = 0; i < 3; i++) await ok('CheckServerHealth', { id: serverId }, tenantKey);
      await health.waitFor(() => statuses().includes('UNHEALTHY'));
      await circuit.waitFor(() => states().includes('OPEN'));
      expect(statuses().at(-1)).toBe('UNHEALTHY');
      expect(states().at(-1)).toBe('OPEN');

      upstream = await startStreamableHttpServer(
        { ...fullCatalog, name: 'e2e-upstream' },
        { bearerToken: UPSTREAM_TOKEN, port: upstreamPort },
      );
      const deadline = Date.now() + 30_000;
      while ((statuses().at(-1) !== 'HEALTHY' || states().at(-1) !== 'CLOSED') && Date.now() < deadline) {
        await ok('CheckServerHealth', { id: serverId }, tenantKey);
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
      expect(statuses().at(-1)).toBe('HEALTHY');
      expect(states().at(-1)).toBe('CLOSED');
      expect(health.errors).toEqual([]);
      expect(circuit.errors).toEqual([]);
    } finally {
      await Promise.all([health.close(), circuit.close()]);
    }
  });

  it.runIf(configuration.embedded)(
    'refuses a CLI command while the server holds the embedded database, and nothing is damaged',
    async () => {
      const refused = await runCli(workDir, env, ['tenant', 'create', 'Intruder']);
      expect(refused.code).toBe(1);
      const lines = refused.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`in use by the server \\(pid ${server.child.pid} on .+\\)\\. Stop that process first`),
      );
      expect(refused.stdout).toBe('');
      const tenants = await ok<{ tenants: { edges: { node: { name: string } }[] } }>('TenantList', {
        first: 10,
      });
      expect(tenants.tenants.edges.map((edge) => edge.node.name)).not.toContain('Intruder');
    },
  );

  it('stops on SIGTERM (drained, closed, exit 0) and keeps its data across a restart', async () => {
    const code = await server.stop();
    expect(code).toBe(0);
    expect(server.logLines().map((line) => line.msg)).toContain('stopped');
    server = await startServerProcess(workDir, env);
    const tenants = await ok<{ tenants: { edges: { node: { id: string } }[] } }>('TenantList', { first: 10 });
    expect(tenants.tenants.edges.map((edge) => edge.node.id)).toContain(made.tenantId);
    // The stored upstream credentials open after the restart: the probe authenticates.
    const checked = await ok<{ checkServerHealth: { healthStatus: string } }>(
      'CheckServerHealth',
      { id: made.serverId },
      made.tenantKey,
    );
    expect(checked.checkServerHealth.healthStatus).toBe('HEALTHY');
  });

  it.runIf(configuration.embedded)(
    'stops cleanly under `npm start`: SIGTERM to npm, and Ctrl-C to the whole process group',
    async () => {
      // `npm start` runs its own data directory here (DATA_DIR), as a user would point it anywhere.
      const npmEnv = { ...env, DATA_DIR: path.join(workDir, 'npm-start-data') };
      for (const stopWith of ['SIGTERM to npm', 'SIGINT to the group'] as const) {
        const npm = await startServerProcess(workDir, npmEnv, { kind: 'npm-start' });
        // It serves (no key: 401), so the stop below drains a running server.
        expect((await postGraphql(npm.url, null, '{ viewer { apiKey { id } } }')).status).toBe(401);
        const pid = npm.child.pid ?? 0;
        if (stopWith === 'SIGTERM to npm') process.kill(pid, 'SIGTERM');
        else process.kill(-pid, 'SIGINT');
        expect({ stopWith, code: await npm.exited }).toEqual({ stopWith, code: 0 });
        expect(npm.logLines().filter((line) => line.msg === 'stopped')).toHaveLength(1);
        // The lock is gone: the next process gets in at once.
        const listed = await runCli(workDir, npmEnv, ['tenant', 'list']);
        expect({ stopWith, code: listed.code, stderr: listed.stderr }).toEqual({
          stopWith,
          code: 0,
          stderr: '',
        });
      }
    },
    // Each `npm start` builds first (server, SDK, dashboard): twice here.
    300_000,
  );

  it.runIf(configuration.embedded)('takes over the lock a killed server left behind', async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServerProcess(workDir, env);
    const answer = await ok<{ viewer: unknown }>('Viewer');
    expect(answer.viewer).toBeDefined();
  });

  it('answers a short fuzz run with clean errors only: no 5xx, nothing internal', async () => {
    const kit = fuzzKit({
      adminKey,
      tenantKey: made.tenantKey ?? '',
      tenantIds: [made.tenantId ?? randomUUID()],
      serverIds: [made.serverId ?? randomUUID()],
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const failures: string[] = [];
    try {
      for (let index = 0; index < 150; index++) {
        const fuzzCase = httpCase(caseRandom(20_261_202, index), kit, index);
        const answer = await sendProbe(server.origin, agent, fuzzCase.probe);
        const problems = httpProblems(fuzzCase, answer);
        if (problems.length > 0) failures.push(`case ${index} (${fuzzCase.label}): ${problems.join('; ')}`);
      }
    } finally {
      agent.destroy();
    }
    expect(failures).toEqual([]);
    expect(server.child.exitCode).toBeNull();
  });
});
