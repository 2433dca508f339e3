import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { progress, sleep } from './log.js';
import { SERVER_ENTRY } from './paths.js';
import { cpuSeconds, rssBytes } from './proc.js';

export interface ServerSettings {
  readonly databaseUrl: string;
  readonly redisUrl: string | null;
  /** Opens the V8 inspector on a free port (for CPU profiles taken through it). */
  readonly inspect?: boolean;
  /** The compiled script to run; the registry (`SERVER_ENTRY`) unless given. */
  readonly entry?: string;
}

/** The compiled server running in production mode as a child process, as it runs in a deployment. */
export interface ServerProcess {
  readonly pid: number;
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:41234/graphql`. */
  readonly url: string;
  /** The inspector's websocket when started with `inspect`. */
  readonly inspectorUrl: string | null;
  cpuSeconds(): number;
  rssBytes(): number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/** A fixed 32-byte key (hex): the bench stores no credentials worth a secret key. */
export const BENCH_ENCRYPTION_KEY = 'be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c4be4c';
const STOP_TIMEOUT_MS = 15_000;

export async function startServer(settings: ServerSettings): Promise<ServerProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: settings.databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // Seeded servers point at hosts that do not exist: probing them is not what is measured.
    HEALTH_CHECKER: 'off',
    // Production requires one; the bench's own, since seeded servers carry no credentials to keep.
    ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
  };
  // The subscription scenario holds 1000 sockets of one tenant's key: more than a key may hold by default.
  env.WS_MAX_CONNECTIONS_PER_KEY = '5000';
  delete env.ADMIN_API_KEY;
  delete env.REDIS_URL;
  if (settings.redisUrl !== null) env.REDIS_URL = settings.redisUrl;
  const args = [...(settings.inspect ? ['--inspect=127.0.0.1:0'] : []), settings.entry ?? SERVER_ENTRY];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the server process did not start');

  let inspectorUrl: string | null = null;
  const output: string[] = [];
  const relay = (line: string) => {
    const debuggerUrl = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
    if (debuggerUrl !== undefined) inspectorUrl = debuggerUrl;
    else if (!line.startsWith('For help, see') && line !== 'Debugger attached.') {
      output.push(line);
      process.stderr.write(`[server] ${line}\n`);
    }
  };
  createInterface({ input: child.stdout }).on('line', relay);
  createInterface({ input: child.stderr }).on('line', relay);

  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, base, output);
  if (settings.inspect && inspectorUrl === null) throw new Error('the server opened no inspector');
  progress(
    'server',
    `pid ${pid} ready at ${base}/graphql${settings.redisUrl ? ' (event bus on Redis)' : ''}`,
  );
  return {
    pid,
    url: `${base}/graphql`,
    inspectorUrl,
    cpuSeconds: () => cpuSeconds(pid) ?? Number.NaN,
    rssBytes: () => rssBytes(pid) ?? Number.NaN,
    stop: () => stopChild(child),
  };
}

async function waitUntilReady(child: ChildProcess, base: string, output: readonly string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with code ${child.exitCode}: ${output.slice(-5).join(' | ')}`);
    }
    const ready = await fetch(`${base}/readyz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) return;
    await sleep(200);
  }
  await stopChild(child);
  throw new Error(`the server was not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/** SIGTERM (the server drains and exits), then SIGKILL if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
