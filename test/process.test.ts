import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.js';

// The server as an operator runs it: a real process on the embedded database, configured by environment.
const MAIN = ['--import', '@swc-node/register/esm-register', 'src/main.ts'];

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
}

function baseEnv(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env } = process.env;
  return {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
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

async function startServer(dataDir: string): Promise<ServerProcess> {
  const { child, output, exited } = run(baseEnv(dataDir));
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const line = output()
      .split('\n')
      .find((candidate) => candidate.includes('listening'));
    if (line) return { child, url: (JSON.parse(line) as { url: string }).url, exited };
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${output()}`);
}

async function graphql(
  url: string,
  query: string,
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

describe('the server process', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mcp-registry-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves GraphQL on embedded PGlite, stops cleanly on SIGTERM and keeps its data across restarts', async () => {
    const first = await startServer(dataDir);
    const created = await graphql(first.url, 'mutation { createTenant(input: { name: "durable" }) { id } }');
    expect(created.errors).toBeUndefined();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startServer(dataDir);
    try {
      const listed = await graphql(second.url, '{ tenants { edges { node { name } } } }');
      expect(listed.data).toEqual({ tenants: { edges: [{ node: { name: 'durable' } }] } });
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  }, 120_000);

  it('refuses to start on a bad environment value with one line naming the variable', async () => {
    const { output, exited } = run({ ...baseEnv(dataDir), PORT: 'eighty' });
    expect(await exited).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT: /);
  }, 30_000);
});
