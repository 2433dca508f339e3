import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { SeedKeys } from '../src/seed/seed-database.js';
import { dataOf, postGraphQL } from './graphql-http.js';
import { progress, sleep } from './log.js';
import { PROJECT_ROOT } from './paths.js';
import { cpuSeconds } from './proc.js';
import type { ServerProcess } from './server-process.js';
import { type Distribution, distribution } from './stats.js';

// The gateway as agents use it: an MCP client calling a tool through a virtual server's /mcp/{id}, against
// the same client calling the same upstream directly, and tools/list of a virtual server with 1000 tools.
// Both sides use the v1 SDK client on protocol 2025-11-25 (a session each), so the difference is the gateway.

export const AGENT_UPSTREAM_ENTRY = path.join(PROJECT_ROOT, 'dist', 'bench', 'agent-upstream.js');
const UPSTREAM_TOOLS = 1000;

export interface AgentRun {
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly latencyMs: Distribution;
  /** CPU of the gateway process during the run (0 for direct calls, which do not pass it). */
  readonly serverCpuSeconds: number;
  readonly requestsPerServerCpuSecond: number;
}

export interface AgentResult {
  readonly upstream: string;
  readonly tools: number;
  /** `tools/call` of `echo`, per connection count: straight to the upstream, and through the gateway. */
  readonly direct: readonly AgentRun[];
  readonly gateway: readonly AgentRun[];
  /** `tools/list` through the gateway, every page (the whole list of `tools` tools), at 1 connection. */
  readonly list: AgentRun;
}

export interface AgentOptions {
  readonly connections: readonly number[];
  readonly duration: number;
  readonly warmup: number;
}

/** Starts the upstream, registers it for a tenant, measures, and removes what it registered. */
export async function measureAgents(
  server: ServerProcess,
  keys: SeedKeys,
  options: AgentOptions,
): Promise<AgentResult> {
  const upstream = await startUpstream();
  try {
    const setUp = await registerVirtualServer(server.url, keys, upstream.url);
    try {
      const endpoint = `${new URL(server.url).origin}/mcp/${setUp.virtualServerId}`;
      progress('agents', `upstream ${upstream.url} with ${UPSTREAM_TOOLS} tools; virtual server ${endpoint}`);
      const call = (client: Client, name: string) => client.callTool({ name, arguments: { text: 'bench' } });
      const direct: AgentRun[] = [];
      const gateway: AgentRun[] = [];
      for (const connections of options.connections) {
        direct.push(
          await closedLoop(
            `direct tools/call ×${connections}`,
            upstream.url,
            null,
            connections,
            options,
            (client) => call(client, 'echo'),
          ),
        );
        gateway.push(
          await closedLoop(
            `gateway tools/call ×${connections}`,
            endpoint,
            { key: setUp.proxyKey, server },
            connections,
            options,
            (client) => call(client, 'bench__echo'),
          ),
        );
      }
      const list = await closedLoop(
        'gateway tools/list ×1',
        endpoint,
        { key: setUp.proxyKey, server },
        1,
        options,
        async (client) => {
          let cursor: string | undefined;
          let listed = 0;
          do {
            const page = await client.listTools(cursor === undefined ? undefined : { cursor });
            listed += page.tools.length;
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          if (listed !== UPSTREAM_TOOLS)
            throw new Error(`tools/list showed ${listed} tools, not ${UPSTREAM_TOOLS}`);
        },
      );
      return {
        upstream: '2025-11-25 Streamable HTTP with sessions (SDK v1), JSON responses',
        tools: UPSTREAM_TOOLS,
        direct,
        gateway,
        list,
      };
    } finally {
      await setUp.remove();
    }
  } finally {
    await upstream.stop();
  }
}

interface Upstream {
  readonly url: string;
  stop(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const child: ChildProcess = spawn(process.execPath, [AGENT_UPSTREAM_ENTRY], {
    env: { ...process.env, AGENT_UPSTREAM_TOOLS: String(UPSTREAM_TOOLS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.stdout === null) throw new Error('the upstream has no stdout');
  const lines = createInterface({ input: child.stdout });
  const [url] = (await once(lines, 'line')) as [string];
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The tenant with the most servers gets the upstream, a virtual server over it and a PROXY key. */
async function registerVirtualServer(graphqlUrl: string, keys: SeedKeys, upstreamUrl: string) {
  const tenant = keys.tenants[0];
  if (tenant === undefined) throw new Error('the seed has no tenant');
  const ask = async <T>(key: string, query: string, variables: Record<string, unknown>) =>
    dataOf<T>(await postGraphQL<T>(graphqlUrl, key, JSON.stringify({ query, variables })), 'agents set-up');
  const { registerServer } = await ask<{ registerServer: { id: string } }>(
    tenant.key,
    'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    {
      input: {
        name: `bench-agents-${Date.now()}`,
        endpointUrl: upstreamUrl,
        transportType: 'STREAMABLE_HTTP',
      },
    },
  );
  const { createVirtualServer } = await ask<{ createVirtualServer: { id: string } }>(
    tenant.key,
    'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id } }',
    { input: { name: 'bench-agents', members: [{ serverId: registerServer.id, prefix: 'bench' }] } },
  );
  const { createApiKey } = await ask<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    keys.admin.key,
    'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id } } }',
    { input: { name: 'bench-agents', tenantId: tenant.tenantId, scopes: ['PROXY'] } },
  );
  return {
    virtualServerId: createVirtualServer.id,
    proxyKey: createApiKey.key,
    async remove() {
      await ask(tenant.key, 'mutation ($id: ID!) { deleteServer(id: $id) }', { id: registerServer.id });
      await ask(tenant.key, 'mutation ($id: ID!) { deleteVirtualServer(id: $id) }', {
        id: createVirtualServer.id,
      });
      await ask(keys.admin.key, 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', {
        id: createApiKey.apiKey.id,
      });
    },
  };
}

/**
 * `connections` clients, each connected once (its own session), send `request` back to back: first for the
 * warm-up (not counted), then for the measured duration.
 */
async function closedLoop(
  label: string,
  url: string,
  gateway: { readonly key: string; readonly server: ServerProcess } | null,
  connections: number,
  options: AgentOptions,
  request: (client: Client) => Promise<unknown>,
): Promise<AgentRun> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new Client({ name: 'bench-agent', version: '1.0.0' });
      const headers: Record<string, string> =
        gateway === null ? {} : { authorization: `Bearer ${gateway.key}` };
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
      return client;
    }),
  );
  const loop = async (seconds: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < until) {
          const startedAt = performance.now();
          try {
            await request(client);
            latencies.push(performance.now() - startedAt);
          } catch {
            errors += 1;
          }
        }
      }),
    );
    return { latencies, errors };
  };
  try {
    if (options.warmup > 0) await loop(options.warmup);
    progress('agents', `${label}: ${options.duration} s`);
    const cpuBefore = gateway === null ? 0 : (cpuSeconds(gateway.server.pid) ?? 0);
    const startedAt = performance.now();
    const { latencies, errors } = await loop(options.duration);
    const seconds = (performance.now() - startedAt) / 1000;
    const serverCpuSeconds = gateway === null ? 0 : (cpuSeconds(gateway.server.pid) ?? 0) - cpuBefore;
    return {
      connections,
      seconds,
      requests: latencies.length,
      errors,
      latencyMs: distribution(latencies),
      serverCpuSeconds,
      requestsPerServerCpuSecond: serverCpuSeconds > 0 ? latencies.length / serverCpuSeconds : Number.NaN,
    };
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await sleep(200);
  }
}
