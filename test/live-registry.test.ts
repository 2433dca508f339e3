import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { loadConfig } from '../src/config.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { HealthCheck } from '../src/health/health-check.entity.js';
import { HealthChecker } from '../src/health/health-checker.js';
import { createLogger } from '../src/logger.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { ServerTool } from '../src/registry/server-tool.entity.js';
import {
  CheckServerHealthDocument,
  CircuitBreakerVersionsDocument,
  RefreshServerCapabilitiesDocument,
  RegisterServerDocument,
  ServerHealthChangedDocument,
  ServerHealthVersionsDocument,
} from './sdk/graphql.js';
import { ADMIN_KEY, type Fleet, startFleet, startTestApp, type TestApp } from './support/app.js';
import {
  createPostgresDatabase,
  createTestDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from './support/database.js';
import {
  closedAfterAll,
  closedPortUrl,
  fullCatalog,
  type ServerCatalog,
  startGarbageServer,
  startHangingServer,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
  stdioServerCommand,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';
import { subscribe } from './support/subscriptions.js';

const started = closedAfterAll();

interface Registered {
  id: string;
  protocolVersion?: string;
  tools: { name: string; description: string | null; toolSchema: unknown }[];
  resources: { uriTemplate: string; mimeType: string | null }[];
  prompts: { name: string }[];
  healthStatus: string;
}

const register = (app: TestApp, key: string, input: Record<string, unknown>) =>
  app.graphql<{ registerServer: Registered }>({
    query: print(RegisterServerDocument),
    variables: { input },
    key,
  });

/** What a server with `catalog` must end up as in the registry. */
function expectedFrom(catalog: ServerCatalog) {
  return {
    tools: [...(catalog.tools ?? [])]
      .map((tool) => ({
        name: tool.name,
        description: tool.description ?? tool.title ?? null,
        toolSchema: tool.inputSchema,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    resources: [
      ...(catalog.resources ?? []).map((resource) => resource.uri),
      ...(catalog.resourceTemplates ?? []).map((template) => template.uriTemplate),
    ].sort(),
    prompts: (catalog.prompts ?? []).map((prompt) => prompt.name).sort(),
  };
}

describe('registration reads what the server offers', () => {
  let db: TestDatabase;
  let app: TestApp;
  let key: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target, { HEALTH_CHECK_TIMEOUT_MS: '1500' });
    key = (await (await seed(app.orm).tenant('acme')).key()).key;
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it.each([
    [
      'a 2025-11-25 server over Streamable HTTP',
      () => startStreamableHttpServer(),
      'STREAMABLE_HTTP',
      '2025-11-25',
    ],
    ['a 2025-11-25 server over legacy SSE', () => startSseServer(), 'SSE', '2025-11-25'],
    ['a stateless 2026-07-28 server', () => startModernServer(), 'STREAMABLE_HTTP', '2026-07-28'],
  ])('stores exactly what %s lists', async (label, start, transportType, protocolVersion) => {
    const server = await started(start());
    const { data, errors } = await register(app, key, {
      name: label,
      endpointUrl: server.url,
      transportType,
    });
    expect(errors).toBeUndefined();
    const stored = await app.orm.em.fork().findOneOrFail(MCPServer, data?.registerServer.id ?? '');
    expect(stored.protocolVersion).toBe(protocolVersion);
    expect(stored.capabilities).toHaveProperty('tools');
    const expected = expectedFrom(fullCatalog);
    const registered = data?.registerServer;
    expect(registered?.tools).toEqual(expected.tools);
    expect(registered?.resources.map((resource) => resource.uriTemplate).sort()).toEqual(expected.resources);
    expect(registered?.prompts.map((prompt) => prompt.name).sort()).toEqual(expected.prompts);
    expect(registered?.healthStatus).toBe('UNKNOWN'); // the health checker's first probe decides
  });

  it('sends the stored headers to a server that needs a token, and refuses to register without them', async () => {
    const server = await started(startStreamableHttpServer(fullCatalog, { bearerToken: 'sesame' }));
    const input = { name: 'guarded', endpointUrl: server.url, transportType: 'STREAMABLE_HTTP' };
    const refused = await register(app, key, input);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'endpointUrl',
      discovery: { outcome: 'AUTH_FAILED' },
    });
    const em = app.orm.em.fork();
    expect(await em.count(MCPServer, { name: 'guarded' })).toBe(0);
    const failures = await em.find(AuditLog, { action: 'server.register', success: false });
    expect(failures.some((row) => row.details.name === 'guarded')).toBe(true);

    const accepted = await register(app, key, { ...input, headers: { Authorization: 'Bearer sesame' } });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data?.registerServer.tools.length).toBe(fullCatalog.tools?.length);
  });

  it.each([
    ['a server that hangs', () => startHangingServer(), 'TIMEOUT'],
    ['a server that speaks broken JSON-RPC', () => startGarbageServer(), 'PROTOCOL_ERROR'],
  ])('does not register %s, and says what failed', async (label, start, outcome) => {
    const server = await started(start());
    const { errors } = await register(app, key, {
      name: label,
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    expect(errors?.[0]?.extensions?.discovery).toMatchObject({ outcome });
    expect(await app.orm.em.fork().count(MCPServer, { name: label })).toBe(0);
  });

  it('does not register an unreachable server unless discovery is off', async () => {
    const url = await closedPortUrl();
    const input = { name: 'offline', endpointUrl: url, transportType: 'STREAMABLE_HTTP' };
    const { errors } = await register(app, key, input);
    expect(errors?.[0]?.extensions?.discovery).toMatchObject({ outcome: 'UNREACHABLE' });
    const declared = await register(app, key, { ...input, discover: false, tools: [{ name: 'later' }] });
    expect(declared.data?.registerServer.tools.map((tool) => tool.name)).toEqual(['later']);
  });

  it('refreshes capabilities: new tools added, vanished ones removed, usage statistics of the rest kept', async () => {
    const catalog = { ...fullCatalog, tools: [...(fullCatalog.tools ?? [])] };
    const server = await started(startStreamableHttpServer(catalog));
    const { data } = await register(app, key, {
      name: 'evolving',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const id = data?.registerServer.id ?? '';
    const [kept, dropped] = catalog.tools;
    if (!kept || !dropped) throw new Error('the catalog needs two tools');
    const em = app.orm.em.fork();
    await em.nativeUpdate(ServerTool, { server: id, name: kept.name }, { totalCalls: 42, successCount: 40 });

    catalog.tools.splice(1, 1);
    catalog.tools.push({ name: 'brand_new', description: 'Appeared later', inputSchema: { type: 'object' } });
    const refreshed = await app.graphql<{ refreshServerCapabilities: { tools: { name: string }[] } }>({
      query: print(RefreshServerCapabilitiesDocument),
      variables: { id },
      key,
    });
    expect(refreshed.errors).toBeUndefined();
    const names = refreshed.data?.refreshServerCapabilities.tools.map((tool) => tool.name) ?? [];
    expect(names).toContain('brand_new');
    expect(names).not.toContain(dropped.name);
    const stats = await app.orm.em.fork().findOneOrFail(ServerTool, { server: id, name: kept.name });
    expect(stats).toMatchObject({ totalCalls: 42, successCount: 40 });
  });

  it('refreshes discovered capabilities on a schedule, and leaves declared ones alone', async () => {
    const catalog = { ...fullCatalog, tools: [...(fullCatalog.tools ?? [])] };
    const server = await started(startStreamableHttpServer(catalog));
    const discovered = await register(app, key, {
      name: 'scheduled',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const declared = await register(app, key, {
      name: 'declared',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
      discover: false,
      tools: [{ name: 'only-this' }],
    });
    const ids = [discovered.data?.registerServer.id ?? '', declared.data?.registerServer.id ?? ''];
    catalog.tools.push({ name: 'added_since', inputSchema: { type: 'object' } });
    await app.orm.em
      .fork()
      .nativeUpdate(MCPServer, { id: { $in: ids } }, { capabilitiesRefreshedAt: new Date(0) });

    const settings = { ...loadConfig({}).health, capabilityRefreshIntervalMs: 60_000, timeoutMs: 1500 };
    const checker = new HealthChecker(
      app.orm,
      settings,
      app.eventBus.pubSub,
      createLogger('silent'),
      app.keyring,
    );
    expect(await checker.refreshDueCapabilities()).toBe(1);
    const toolNames = async (serverId: string) =>
      (await app.orm.em.fork().find(ServerTool, { server: serverId })).map((tool) => tool.name);
    expect(await toolNames(ids[0] ?? '')).toContain('added_since');
    expect(await toolNames(ids[1] ?? '')).toEqual(['only-this']);
    expect(await checker.refreshDueCapabilities()).toBe(0); // fresh again until the next interval
  });

  it('probes on demand: checkServerHealth returns the server with its fresh status and history', async () => {
    const server = await started(startModernServer());
    const { data } = await register(app, key, {
      name: 'on-demand',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const id = data?.registerServer.id ?? '';
    const checked = await app.graphql<{
      checkServerHealth: { healthStatus: string; lastHealthCheckAt: string };
    }>({
      query: print(CheckServerHealthDocument),
      variables: { id },
      key,
    });
    expect(checked.errors).toBeUndefined();
    expect(checked.data?.checkServerHealth.healthStatus).toBe('HEALTHY');
    const history = await app.orm.em.fork().find(HealthCheck, { server: id });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ outcome: 'ok', protocolVersion: '2026-07-28' });

    const websocket = await register(app, key, {
      name: 'not-mcp',
      endpointUrl: 'wss://socket.example.test/mcp',
      transportType: 'WEBSOCKET',
      discover: false,
    });
    const refused = await app.graphql({
      query: print(CheckServerHealthDocument),
      variables: { id: websocket.data?.registerServer.id },
      key,
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('STDIO servers', () => {
  let pidDir: string;

  beforeAll(async () => {
    pidDir = await mkdtemp(path.join(tmpdir(), 'stdio-registry-'));
  });

  afterAll(async () => {
    await rm(pidDir, { recursive: true, force: true });
  });

  /** The pids of every process started from a command line with this pid file; none when never spawned. */
  const spawned = async (pidFile: string) =>
    (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  describe('with ALLOW_STDIO=true', () => {
    let db: TestDatabase;
    let app: TestApp;
    let key: string;
    let tenantId: string;

    beforeAll(async () => {
      db = await createTestDatabase();
      app = await startTestApp(db.target, { ALLOW_STDIO: 'true', HEALTH_CHECK_TIMEOUT_MS: '5000' });
      // STDIO commands run on the registry's host: only platform admins register them.
      const tenant = await seed(app.orm).tenant('local');
      tenantId = tenant.id;
      key = ADMIN_KEY;
    });

    afterAll(async () => {
      await app?.close();
      await db?.drop();
    });

    it('registers with what the spawned server lists, and a health probe finds it HEALTHY', async () => {
      const pidFile = path.join(pidDir, 'allowed');
      const { data, errors } = await register(app, key, {
        name: 'local-files',
        endpointUrl: stdioServerCommand('legacy', { pidFile }),
        transportType: 'STDIO',
        tenantId,
      });
      expect(errors).toBeUndefined();
      const registered = data?.registerServer;
      const expected = expectedFrom(fullCatalog);
      expect(registered?.tools).toEqual(expected.tools);
      expect(registered?.resources.map((resource) => resource.uriTemplate).sort()).toEqual(
        expected.resources,
      );
      expect(registered?.prompts.map((prompt) => prompt.name).sort()).toEqual(expected.prompts);
      const id = registered?.id ?? '';
      const em = app.orm.em.fork();
      expect(await em.findOneOrFail(MCPServer, id)).toMatchObject({
        protocolVersion: '2025-11-25',
        healthStatus: 'unknown',
      });

      const settings = { ...loadConfig({ ALLOW_STDIO: 'true' }).health, timeoutMs: 5000 };
      const checker = new HealthChecker(
        app.orm,
        settings,
        app.eventBus.pubSub,
        createLogger('silent'),
        app.keyring,
      );
      expect(await checker.runDueChecks()).toBe(1);
      const server = await app.orm.em.fork().findOneOrFail(MCPServer, id);
      expect(server.healthStatus).toBe('healthy');
      const history = await app.orm.em.fork().find(HealthCheck, { server: id });
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ outcome: 'ok', protocolVersion: '2025-11-25' });

      const pids = await spawned(pidFile);
      expect(pids.length).toBeGreaterThanOrEqual(2); // registration and probe (and the SDK's version probes)
      expect(pids.filter(alive)).toEqual([]);
    });
  });

  describe('by default (ALLOW_STDIO=false)', () => {
    let db: TestDatabase;
    let app: TestApp;
    let key: string;
    let tenantId: string;

    beforeAll(async () => {
      db = await createTestDatabase();
      app = await startTestApp(db.target);
      // STDIO commands run on the registry's host: only platform admins register them.
      const tenant = await seed(app.orm).tenant('cautious');
      tenantId = tenant.id;
      key = ADMIN_KEY;
    });

    afterAll(async () => {
      await app?.close();
      await db?.drop();
    });

    it('refuses to discover a STDIO server, and the checker never spawns one declared by hand', async () => {
      const pidFile = path.join(pidDir, 'refused');
      const input = {
        name: 'local-files',
        endpointUrl: stdioServerCommand('legacy', { pidFile }),
        transportType: 'STDIO',
        tenantId,
      };
      const refused = await register(app, key, input);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'discover' });
      expect(refused.errors?.[0]?.message).toContain('ALLOW_STDIO=true');
      expect(await app.orm.em.fork().count(MCPServer, { name: input.name })).toBe(0);

      const declared = await register(app, key, {
        ...input,
        discover: false,
        tools: [{ name: 'read_file' }],
      });
      expect(declared.errors).toBeUndefined();
      const id = declared.data?.registerServer.id ?? '';
      const defaults = loadConfig({}).health;
      const checker = new HealthChecker(
        app.orm,
        defaults,
        app.eventBus.pubSub,
        createLogger('silent'),
        app.keyring,
      );
      expect(await checker.runDueChecks()).toBe(0);

      const em = app.orm.em.fork();
      expect((await em.findOneOrFail(MCPServer, id)).healthStatus).toBe('unknown');
      expect(await em.count(HealthCheck, { server: id })).toBe(0);
      expect(await spawned(pidFile)).toEqual([]);
    });
  });
});

describe('the health checker', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db.target, {
      HEALTH_CHECKER: 'on',
      HEALTH_CHECK_INTERVAL_MS: '150',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
      HEALTH_UNHEALTHY_AFTER: '2',
      HEALTH_HEALTHY_AFTER: '2',
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_SUCCESS_THRESHOLD: '2',
      CIRCUIT_OPEN_TIMEOUT_MS: '500',
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('marks a stopped server UNHEALTHY and opens its circuit, then closes it and recovers when it returns', async () => {
    const { key } = await (await seed(app.orm).tenant('ops')).key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
    let server = await started(startStreamableHttpServer());
    const port = Number(new URL(server.url).port);
    const { data } = await register(app, key, {
      name: 'lifecycle',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const serverId = data?.registerServer.id ?? '';
    const health = subscribe(app, key, print(ServerHealthVersionsDocument), { serverId });
    const circuit = subscribe(app, key, print(CircuitBreakerVersionsDocument), { serverId });
    const statuses = () =>
      health.events.map((event) => (event.serverHealthChanged as { status: string }).status);
    const states = () =>
      circuit.events.map((event) => (event.circuitBreakerChanged as { state: string }).state);

    await health.waitFor(() => statuses().includes('HEALTHY'));
    expect(statuses().at(-1)).toBe('HEALTHY');

    await server.close();
    await health.waitFor(() => statuses().at(-1) === 'UNHEALTHY');
    await circuit.waitFor(() => states().at(-1) === 'OPEN');
    expect(statuses().at(-1)).toBe('UNHEALTHY');
    expect(states().at(-1)).toBe('OPEN');

    server = await started(startStreamableHttpServer(fullCatalog, { port }));
    await circuit.waitFor(() => states().at(-1) === 'CLOSED');
    await health.waitFor(() => statuses().at(-1) === 'HEALTHY');
    expect(states().slice(-3)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    expect(statuses().at(-1)).toBe('HEALTHY');

    for (const events of [health.events, circuit.events]) {
      const versions = events.map((event) => (Object.values(event)[0] as { version: number }).version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    }
    const history = await app.orm.em.fork().find(HealthCheck, { server: serverId });
    expect(new Set(history.map((check) => check.outcome))).toEqual(new Set(['ok', 'unreachable']));
    await Promise.all([health.close(), circuit.close()]);
  }, 60_000);
});

describe.skipIf(!postgresAvailable())('health checking across instances', () => {
  let fleet: Fleet;
  let instanceA: TestApp;
  let instanceB: TestApp;

  beforeAll(async () => {
    fleet = await startFleet();
    ({ instanceA, instanceB } = fleet);
  });

  afterAll(() => fleet?.close());

  it('probes each server once per interval across the fleet', async () => {
    const tenant = await seed(instanceA.orm).tenant('fleet');
    const url = await closedPortUrl();
    const servers = await tenant.servers(
      Array.from({ length: 12 }, (_, index) => ({ name: `fleet-${index}` })),
    );
    await instanceA.orm.em
      .fork()
      .nativeUpdate(MCPServer, { id: { $in: servers.map((s) => s.id) } }, { endpointUrl: url });

    const settings = { ...loadConfig({}).health, intervalMs: 60_000, concurrency: 3, timeoutMs: 1000 };
    const log = createLogger('silent');
    const checkers = [instanceA, instanceB].map(
      (instance) =>
        new HealthChecker(instance.orm, settings, instance.eventBus.pubSub, log, instance.keyring),
    );
    const probed = await Promise.all(checkers.map((checker) => checker.runDueChecks()));
    expect(probed.reduce((sum, count) => sum + count, 0)).toBe(12);
    expect(
      await instanceA.orm.em.fork().count(HealthCheck, { server: { $in: servers.map((s) => s.id) } }),
    ).toBe(12);

    // Within the same interval nothing is due any more, on either instance.
    expect(await Promise.all(checkers.map((checker) => checker.runDueChecks()))).toEqual([0, 0]);
  });
});

describe.skipIf(!postgresAvailable() || !redisAvailable())('health changes across instances', () => {
  let db: TestDatabase;
  let prober: TestApp;
  let listener: TestApp;

  beforeAll(async () => {
    db = await createPostgresDatabase();
    prober = await startTestApp(db.target, {
      REDIS_URL,
      HEALTH_CHECKER: 'on',
      HEALTH_CHECK_INTERVAL_MS: '150',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
    });
    listener = await startTestApp(db.target, { REDIS_URL });
  });

  afterAll(async () => {
    await prober?.close();
    await listener?.close();
    await db?.drop();
  });

  it('reach a subscriber on instance B when instance A detects them', async () => {
    const { key } = await (await seed(listener.orm).tenant('split')).key([
      ApiKeyScope.READ,
      ApiKeyScope.WRITE,
    ]);
    const server = await started(startModernServer());
    // Registered through B, which does not probe: only A's checker can find it healthy.
    const { data } = await register(listener, key, {
      name: 'seen-by-a',
      endpointUrl: server.url,
      transportType: 'STREAMABLE_HTTP',
    });
    const serverId = data?.registerServer.id ?? '';
    const health = subscribe(listener, key, print(ServerHealthChangedDocument), { serverId });
    const statuses = () =>
      health.events.map((event) => (event.serverHealthChanged as { status: string }).status);
    await health.waitFor(() => statuses().includes('HEALTHY'));
    expect(statuses().at(-1)).toBe('HEALTHY');
    expect(listener.healthChecker).toBeNull();
    await health.close();
  });
});
