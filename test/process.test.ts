import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, TEST_ENCRYPTION_KEY } from './support/app.js';
import { type RunningServer, startStreamableHttpServer } from './support/mcp-servers.js';

// The server as an operator runs it: a real process on the embedded database, configured by environment.
const MAIN = ['--import', '@swc-node/register/esm-register', 'src/main.ts'];

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** Everything it wrote so far. */
  output(): string;
}

function baseEnv(dataDir: string): NodeJS.ProcessEnv {
  // NODE_ENV too: vitest's `test` changes what libraries do (Apollo leaves signals alone), users never set it.
  const { DATABASE_URL: _db, REDIS_URL: _redis, NODE_ENV: _nodeEnv, ...env } = process.env;
  return {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: 'info',
  };
}

function run(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, MAIN, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function startServer(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const { child, output, exited } = run({ ...baseEnv(dataDir), ...env });
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const line = output()
      .split('\n')
      .find((candidate) => candidate.includes('listening'));
    if (line) return { child, url: (JSON.parse(line) as { url: string }).url, exited, output };
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${output()}`);
}

async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

const REGISTER = 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }';
const CHECK = 'mutation ($id: ID!) { checkServerHealth(id: $id) { healthStatus } }';
const UPSTREAM_TOKEN = 'upstream-token-0f9e8d7c6b5a';

/** The warning lines about the development key in a process's output. */
function warningsOf(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => String(line.msg).startsWith('ENCRYPTION_KEY is not set'));
}

describe('the server process', () => {
  let dataDir: string;
  let guarded: RunningServer;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mcp-registry-'));
    guarded = await startStreamableHttpServer(undefined, { bearerToken: UPSTREAM_TOKEN });
  });

  afterAll(async () => {
    await guarded?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves GraphQL on embedded PGlite, stops cleanly on SIGTERM and keeps its data across restarts', async () => {
    // No ENCRYPTION_KEY, as after `npm ci && npm start`: a development key is made once and kept in DATA_DIR.
    const noKey = { ENCRYPTION_KEY: '' };
    const keyFile = path.join(dataDir, 'encryption.key');
    const first = await startServer(dataDir, noKey);
    const created = await graphql(first.url, 'mutation { createTenant(input: { name: "durable" }) { id } }');
    expect(created.errors).toBeUndefined();
    const tenantId = (created.data?.createTenant as { id: string } | undefined)?.id;
    const registered = await graphql(first.url, REGISTER, {
      input: {
        name: 'guarded',
        endpointUrl: guarded.url,
        transportType: 'STREAMABLE_HTTP',
        tenantId,
        headers: { Authorization: `Bearer ${UPSTREAM_TOKEN}` },
      },
    });
    expect(registered.errors).toBeUndefined();
    const serverId = (registered.data?.registerServer as { id: string } | undefined)?.id;
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(warningsOf(first.output())).toEqual([expect.objectContaining({ file: keyFile, created: true })]);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = await readFile(keyFile, 'utf8');
    expect(first.output()).not.toContain(key.trim());
    expect(first.output()).not.toContain(UPSTREAM_TOKEN);

    const second = await startServer(dataDir, noKey);
    try {
      const listed = await graphql(second.url, '{ tenants { edges { node { name } } } }');
      expect(listed.data).toEqual({ tenants: { edges: [{ node: { name: 'durable' } }] } });
      // The headers sealed by the first run open in the second: the probe authenticates.
      const checked = await graphql(second.url, CHECK, { id: serverId });
      expect(checked).toEqual({ data: { checkServerHealth: { healthStatus: 'HEALTHY' } } });
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    expect(warningsOf(second.output())).toEqual([expect.objectContaining({ file: keyFile, created: false })]);
    expect(await readFile(keyFile, 'utf8')).toBe(key);
  }, 120_000);

  it('refuses to start in production without ENCRYPTION_KEY, with one line naming it', async () => {
    const fresh = await mkdtemp(path.join(tmpdir(), 'mcp-registry-production-'));
    try {
      const { output, exited } = run({ ...baseEnv(fresh), NODE_ENV: 'production', ENCRYPTION_KEY: '' });
      expect(await exited).toBe(1);
      const lines = output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^Invalid configuration: ENCRYPTION_KEY: is required when NODE_ENV=production/,
      );
      await expect(stat(path.join(fresh, 'encryption.key'))).rejects.toThrowError(/ENOENT/);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses to start on a bad environment value with one line naming the variable', async () => {
    const { output, exited } = run({ ...baseEnv(dataDir), PORT: 'eighty' });
    expect(await exited).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT: /);
  }, 30_000);
});
