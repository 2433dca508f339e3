import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, type AgentEra, connectAgent, INITIALIZE_2025, postMcp } from '../support/agents.js';
import {
  createPostgresDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from '../support/database.js';
import { startModernServer, startStreamableHttpServer } from '../support/mcp-servers.js';
import { callOk, createTestTenant } from './support/contract-calls.js';
import {
  productionEnvironment,
  runCli,
  type ServerProcess,
  startServerProcess,
  userEnvironment,
} from './support/server-process.js';

/**
 * Agents connect to the gateway as users run it: the built server started as a process, on the embedded
 * default and on PostgreSQL + Redis with two instances behind one URL space. The official SDK clients (v1 on
 * 2025-11-25 with a session, v2 on 2026-07-28) list and call through a virtual server; a change made on one
 * instance reaches an agent connected to the other.
 */

const ERAS: AgentEra[] = ['2025-11-25', '2026-07-28'];
const runsHere = postgresAvailable() && redisAvailable();

/** Registers two upstreams (2025 and 2026 era), a virtual server over both, and a PROXY key; returns them. */
async function setUp(graphqlUrl: string, adminKey: string, upstreams: { legacy: string; modern: string }) {
  const { writer, key, register } = await createTestTenant(graphqlUrl, adminKey, 'agents');
  const proxy = await key(['PROXY']);
  const legacyId = await register('legacy', upstreams.legacy);
  const modernId = await register('modern', upstreams.modern);
  const { createVirtualServer } = await callOk<{ createVirtualServer: { id: string; endpointUrl: string } }>(
    graphqlUrl,
    writer,
    'CreateVirtualServer',
    {
      input: {
        name: 'agents',
        members: [
          { serverId: legacyId, prefix: 'old' },
          { serverId: modernId, prefix: 'new' },
        ],
      },
    },
  );
  return { writer, proxy, legacyId, virtualServer: createVirtualServer };
}

const catalog = (name: string, tools: string[]) => ({
  name,
  version: '1.0.0',
  tools: tools.map((tool) => ({ name: tool, inputSchema: { type: 'object' as const } })),
});

describe.skipIf(!runsHere)('agents through a running gateway', () => {
  let workDir: string;
  let legacyUpstream: Awaited<ReturnType<typeof startStreamableHttpServer>>;
  let modernUpstream: Awaited<ReturnType<typeof startModernServer>>;
  const processes: ServerProcess[] = [];
  const agents: Agent[] = [];
  const cleanUps: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'mcp-agents-'));
    legacyUpstream = await startStreamableHttpServer(catalog('legacy', ['echo']));
    modernUpstream = await startModernServer(catalog('modern', ['echo']));
  });

  afterAll(async () => {
    await Promise.allSettled(agents.map((agent) => agent.close()));
    const codes = await Promise.all(processes.map((server) => server.stop()));
    await Promise.allSettled([legacyUpstream?.close(), modernUpstream?.close()]);
    for (const cleanUp of cleanUps) await cleanUp();
    await rm(workDir, { recursive: true, force: true });
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  const agentOn = async (era: AgentEra, url: string, key: string) => {
    const agent = await connectAgent(era, url, key);
    agents.push(agent);
    return agent;
  };

  it('embedded PGlite, no configuration: both eras list and call', async () => {
    const env = userEnvironment({ PORT: '0' });
    const created = await runCli(workDir, env, ['key', 'create', '--name', 'agents', '--scopes', 'admin']);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const server = await startServerProcess(workDir, env);
    processes.push(server);
    const { proxy, virtualServer } = await setUp(server.url, created.stdout.trim(), {
      legacy: legacyUpstream.url,
      modern: modernUpstream.url,
    });
    expect(virtualServer.endpointUrl).toBe(`${server.origin}/mcp/${virtualServer.id}`);
    for (const era of ERAS) {
      const agent = await agentOn(era, virtualServer.endpointUrl, proxy);
      expect((await agent.listTools()).tools.map((tool) => tool.name)).toEqual(['new__echo', 'old__echo']);
      const result = await agent.callTool('old__echo', { era });
      expect(result.content).toEqual([
        { type: 'text', text: JSON.stringify({ server: 'legacy', tool: 'echo', arguments: { era } }) },
      ]);
    }
  });

  it('PostgreSQL + Redis, two instances: a session works on both, and a change on one reaches agents on the other', async () => {
    const database: TestDatabase = await createPostgresDatabase();
    cleanUps.push(() => database.drop());
    const adminKey = `agents-admin-${randomUUID()}`;
    const databaseUrl = database.target.kind === 'postgres' ? database.target.url : '';
    const env = productionEnvironment(databaseUrl, adminKey, { HEALTH_CHECKER: 'off' });
    const first = await startServerProcess(workDir, env);
    processes.push(first);
    const second = await startServerProcess(workDir, env);
    processes.push(second);
    const { writer, proxy, legacyId, virtualServer } = await setUp(first.url, adminKey, {
      legacy: legacyUpstream.url,
      modern: modernUpstream.url,
    });
    const onSecond = `${second.origin}/mcp/${virtualServer.id}`;

    // A 2025 session opened on the first instance is known to the second.
    const initialize = await postMcp(virtualServer.endpointUrl, proxy, INITIALIZE_2025);
    expect(initialize.status).toBe(200);
    const sessionId = initialize.headers.get('mcp-session-id') ?? '';
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await initialize.body?.cancel();
    const list = await postMcp(
      onSecond,
      proxy,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    );
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('old__echo');

    // Agents of both eras connected to the second instance hear of a refresh made through the first.
    const listening = await Promise.all(ERAS.map((era) => agentOn(era, onSecond, proxy)));
    for (const agent of listening) await agent.listTools();
    const changes = Promise.all(listening.map((agent) => agent.nextToolListChange()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await legacyUpstream.change(catalog('legacy', ['echo', 'shout']), ['tools']);
    await callOk(first.url, writer, 'RefreshServerCapabilities', { id: legacyId });
    await changes;
    for (const agent of listening) {
      expect((await agent.listTools()).tools.map((tool) => tool.name)).toEqual([
        'new__echo',
        'old__echo',
        'old__shout',
      ]);
    }
  });
});
