import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { BACKGROUND_LABEL } from '../src/db/orm.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import { createLogger } from '../src/logger.js';
import { CircuitBreakerState } from '../src/registry/registry.enums.js';
import { seed } from '../test/support/seed.js';

// The fixed per-request cost, in process: a fresh PostgreSQL database, the application started with
// `startApp` (no child process), then, one after the other, GraphQL `viewer` queries, a burst of
// `resetCircuitBreaker` mutations and MCP `tools/call` / `tools/list` through a virtual server over the bench
// upstream (a child process with 1,000 tools): `call` and `list` as a 2025-11-25 session (the SDK v1 client, as
// the agents bench), `call2026` as a stateless 2026-07-28 client (the SDK v2 client). Prints, per kind, SQL statements per request (counted through
// the `onQuery` hook, background work left out), wall time and this process's CPU per request (the client
// runs in the same process: read the CPU figures relative to each other). Run it under `node --cpu-prof`
// to see where the server's time goes:
//
//   node --cpu-prof --cpu-prof-dir .data/profiles --import @swc-node/register/esm-register \
//     bench/profile-requests.ts [--only viewer,reset,call,call2026,list] [--count 200]
//
// `--profile-dir DIR` instead profiles only the measured loops (no start-up, no warm-up): one
// DIR/<label>.cpuprofile per measurement; bench/profile-summary.ts sums one by package and function.

const POSTGRES = process.env.PROFILE_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_KEY = 'profile-admin-key-0123456789abcdefghij';
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? undefined : args[index + 1];
};
const count = Number(option('count') ?? 200);
const only = new Set((option('only') ?? 'viewer,reset,call,list').split(','));
const redisUrl = option('redis');
const profileDir = option('profile-dir');

/** Profiles `run` into profileDir/<label>.cpuprofile when --profile-dir is given. */
async function profiled<T>(label: string, run: () => Promise<T>): Promise<T> {
  if (profileDir === undefined) return run();
  await mkdir(profileDir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(profileDir, `${label.replace(/[^\w]+/g, '-')}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const name = `mcp_profile_${randomBytes(4).toString('hex')}`;
  await admin(`create database "${name}"`);
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  let recording: string[] | null = null;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    HEALTH_CHECKER: 'off',
    REDIS_KEY_PREFIX: `profile-${randomUUID()}:`,
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000',
    ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    ...(redisUrl !== undefined && { REDIS_URL: redisUrl }),
  });
  const app = await startApp({
    config,
    log: createLogger(config.logLevel),
    database: { kind: 'postgres', url: url.toString() },
    onQuery: (message) => {
      if (!message.includes(`(${BACKGROUND_LABEL}:`)) recording?.push(message);
    },
  });
  let upstream: ChildProcess | undefined;
  try {
    const tenant = await seed(app.orm).tenant('profile-inc');
    const writer = (await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
    const proxy = (await tenant.key([ApiKeyScope.PROXY])).key;
    const graphql = async (key: string, query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
      return body.data ?? {};
    };
    const measure = async (label: string, requests: number, run: (index: number) => Promise<unknown>) => {
      await run(0); // warm: compiled queries, pooled sessions, caches
      recording = [];
      const cpu = process.cpuUsage();
      const startedAt = performance.now();
      await profiled(label, async () => {
        for (let index = 0; index < requests; index++) await run(index + 1);
      });
      const wallMs = (performance.now() - startedAt) / requests;
      const used = process.cpuUsage(cpu);
      const statements = recording.length / requests;
      const kinds = new Map<string, number>();
      for (const sql of recording) {
        const head = sql.replace(/^\[query\] /, '').slice(0, 60);
        kinds.set(head, (kinds.get(head) ?? 0) + 1);
      }
      recording = null;
      console.log(
        `${label}: ${statements.toFixed(2)} SQL/req, ${wallMs.toFixed(2)} ms/req wall, ` +
          `${((used.user + used.system) / 1000 / requests).toFixed(2)} ms/req CPU (client included)`,
      );
      if (args.includes('--sql'))
        for (const [head, n] of kinds) console.log(`   ${(n / requests).toFixed(2)} × ${head}`);
    };

    if (only.has('typename')) {
      await measure('graphql { __typename }', count, () => graphql(writer, '{ __typename }'));
    }
    if (only.has('viewer')) {
      await measure('graphql viewer', count, () => graphql(writer, '{ viewer { apiKey { id } } }'));
    }
    if (only.has('reset')) {
      const servers = await tenant.servers(
        Array.from({ length: 100 }, (_, index) => ({
          name: `breaker-${index}`,
          tools: ['t'],
          circuitState: CircuitBreakerState.OPEN,
        })),
      );
      const reset = 'mutation ($id: ID!) { resetCircuitBreaker(serverId: $id) { state } }';
      await measure('resetCircuitBreaker (serial)', servers.length - 1, (index) =>
        graphql(writer, reset, { id: servers[index % servers.length]?.id }),
      );
      const startedAt = performance.now();
      const cpu = process.cpuUsage();
      const latencies = await profiled('resetCircuitBreaker burst', () =>
        Promise.all(
          servers.map(async (server) => {
            const sent = performance.now();
            await graphql(writer, reset, { id: server.id });
            return performance.now() - sent;
          }),
        ),
      );
      latencies.sort((a, b) => a - b);
      const used = process.cpuUsage(cpu);
      console.log(
        `resetCircuitBreaker burst of ${servers.length}: p50 ${latencies[49]?.toFixed(1)} ms, ` +
          `p99 ${latencies[98]?.toFixed(1)} ms, all in ${(performance.now() - startedAt).toFixed(0)} ms, ` +
          `CPU ${((used.user + used.system) / 1000).toFixed(0)} ms`,
      );
    }
    if (only.has('call') || only.has('call2026') || only.has('list')) {
      upstream = spawn(
        process.execPath,
        ['--import', '@swc-node/register/esm-register', path.join('bench', 'agent-upstream.ts')],
        { env: { ...process.env, AGENT_UPSTREAM_TOOLS: '1000' }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      if (upstream.stdout === null) throw new Error('no stdout');
      const [upstreamUrl] = (await once(createInterface({ input: upstream.stdout }), 'line')) as [string];
      const { registerServer } = (await graphql(
        writer,
        'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
        { input: { name: 'bench-upstream', endpointUrl: upstreamUrl, transportType: 'STREAMABLE_HTTP' } },
      )) as { registerServer: { id: string } };
      const { createVirtualServer } = (await graphql(
        writer,
        'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id } }',
        { input: { name: 'bench-agents', members: [{ serverId: registerServer.id, prefix: 'bench' }] } },
      )) as { createVirtualServer: { id: string } };
      const endpoint = `${new URL(app.url).origin}/mcp/${createVirtualServer.id}`;
      const client = new Client({ name: 'profile-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(endpoint), {
          requestInit: { headers: { authorization: `Bearer ${proxy}` } },
        }),
      );
      const direct = new Client({ name: 'profile-agent', version: '1.0.0' });
      await direct.connect(new StreamableHTTPClientTransport(new URL(upstreamUrl)));
      if (only.has('call')) {
        await measure('upstream tools/call directly', count, () =>
          direct.callTool({ name: 'echo', arguments: { text: 'profile' } }),
        );
        await measure('mcp tools/call', count, () =>
          client.callTool({ name: 'bench__echo', arguments: { text: 'profile' } }),
        );
      }
      if (only.has('call2026')) {
        const modern = new ModernClient(
          { name: 'profile-agent', version: '1.0.0' },
          { versionNegotiation: { mode: 'auto' } },
        );
        await modern.connect(
          new ModernTransport(new URL(endpoint), {
            requestInit: { headers: { authorization: `Bearer ${proxy}` } },
          }),
        );
        const era = modern.getNegotiatedProtocolVersion();
        await measure(`mcp tools/call (${era})`, count, () =>
          modern.callTool({ name: 'bench__echo', arguments: { text: 'profile' } }),
        );
        await modern.close();
      }
      if (only.has('list')) {
        await measure('mcp tools/list (all pages)', Math.max(1, Math.floor(count / 4)), async () => {
          let cursor: string | undefined;
          do {
            cursor = (await client.listTools(cursor === undefined ? undefined : { cursor })).nextCursor;
          } while (cursor !== undefined);
        });
      }
      await Promise.allSettled([client.close(), direct.close()]);
    }
  } finally {
    upstream?.kill('SIGTERM');
    await app.close();
    await admin(`drop database if exists "${name}" with (force)`);
  }
}

await main();
