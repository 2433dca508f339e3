import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDIS_URL } from '../../support/services.js';

// The built server and CLI (dist/, made by ./build.ts) run exactly as `npm start` and `npm run cli` run them:
// `node dist/src/….js`, configured by environment alone, talked to over HTTP and graphql-ws only.

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST = path.join(PROJECT_ROOT, 'dist/src');

/**
 * The environment a user's shell would give: PATH and HOME, none of the test runner's variables (vitest sets
 * NODE_ENV=test, which changes what libraries do: Apollo, for one, then leaves signals alone), plus `env`.
 */
export function userEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const { PATH, HOME } = process.env;
  return { ...(PATH === undefined ? {} : { PATH }), ...(HOME === undefined ? {} : { HOME }), ...env };
}

/**
 * Production mode on PostgreSQL and Redis, configured as an operator would: its own Redis key prefix, an
 * encryption key and the first admin key from the environment, plus `env`.
 */
export function productionEnvironment(
  databaseUrl: string,
  adminKey: string,
  env: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return userEnvironment({
    NODE_ENV: 'production',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: `e2e-${randomUUID()}:`,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    ADMIN_API_KEY: adminKey,
    ...env,
  });
}

export interface Started {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when ended by a signal). */
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/** How the server is started: `node dist/src/main.js` in a directory, or `npm start` in the project as a user types it. */
export type Launch = { readonly kind: 'node'; readonly cwd: string } | { readonly kind: 'npm-start' };

function spawnServer(launch: Launch, env: NodeJS.ProcessEnv): Started {
  const child =
    launch.kind === 'node'
      ? spawn(process.execPath, [path.join(DIST, 'main.js')], {
          cwd: launch.cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : // Its own process group, as a terminal gives it: Ctrl-C reaches npm and the server alike.
        spawn('npm', ['start', '--silent'], {
          cwd: PROJECT_ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

export interface ServerProcess extends Started {
  /** `http://127.0.0.1:<port>/graphql`, from its `listening` log line. */
  readonly url: string;
  readonly origin: string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[];
}

/** Starts `node dist/src/main.js` in `cwd` (or as `launch` says) and waits for its `listening` line. */
export async function startServerProcess(
  cwd: string,
  env: NodeJS.ProcessEnv,
  launch: Launch = { kind: 'node', cwd },
): Promise<ServerProcess> {
  const started = spawnServer(launch, env);
  const logLines = () =>
    started
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  // `npm start` builds before it listens.
  const deadline = Date.now() + (launch.kind === 'npm-start' ? 180_000 : 60_000);
  while (Date.now() < deadline) {
    const listening = logLines().find((line) => line.msg === 'MCP registry gateway listening');
    if (listening) {
      const url = String(listening.url);
      return {
        ...started,
        url,
        origin: new URL(url).origin,
        logLines,
        stop: () => {
          if (started.child.exitCode === null) started.child.kill('SIGTERM');
          return started.exited;
        },
      };
    }
    if (started.child.exitCode !== null) throw new Error(`the server exited early:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  started.child.kill('SIGKILL');
  throw new Error(`the server did not start:\n${started.output()}`);
}

/** Runs `node dist/src/cli.js …args` to its end. */
export async function runCli(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(DIST, 'cli.js'), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
  return { code, stdout, stderr };
}

export interface GraphQLAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation, as a dashboard does. */
export async function postGraphql<T = Record<string, unknown>>(
  url: string,
  key: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLAnswer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLAnswer<T>, 'status'>;
  return { status: response.status, ...body };
}
