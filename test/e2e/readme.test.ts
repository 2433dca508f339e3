import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, userEnvironment } from './support/server-process.js';

/**
 * The README's quick start, run as a person pastes it: its shell block, in bash, at the project root, on the
 * embedded default. Three changes, each for running inside the test suite: no `npm ci` (this checkout is
 * installed), `node dist/src/main.js` for `npm start` (the suite built dist/ once; rebuilding it would pull
 * it from under the other tests' servers; e2e/configurations.test.ts starts `npm start` itself), and free
 * ports for 4000 and 4100. Its data goes to a directory of its own (DATA_DIR).
 */

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function quickStart(): Promise<string> {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /<!-- quick-start:begin -->\n```sh\n([\s\S]*?)```\n<!-- quick-start:end -->/.exec(
    readme,
  )?.[1];
  if (block === undefined) throw new Error('README.md has no quick-start block');
  return block;
}

describe('the README quick start', () => {
  const cleanUps: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanUp of cleanUps) await cleanUp();
  });

  it('runs top to bottom: registers the example, queries, calls a tool and hears a health change', async () => {
    const [gatewayPort, examplePort] = [await freePort(), await freePort()];
    const dataDir = await mkdtemp(path.join(tmpdir(), 'mcp-readme-'));
    cleanUps.push(() => rm(dataDir, { recursive: true, force: true }));
    const script = (await quickStart())
      .replace(/^npm ci\n/m, '')
      .replace(/^npm start &$/m, 'node dist/src/main.js > "$DATA_DIR/gateway.log" 2>&1 &')
      .replaceAll('localhost:4000', `localhost:${gatewayPort}`)
      .replaceAll('4100', String(examplePort));
    expect(script).not.toContain('npm start');

    // From a file, as a pasted block would not be in any process's arguments (it runs `pkill -f`).
    const scriptFile = path.join(dataDir, 'quick-start.sh');
    await writeFile(scriptFile, script);
    // Its own process group: the gateway it leaves running is stopped with it.
    const shell = spawn('bash', ['-e', '-o', 'pipefail', scriptFile], {
      cwd: PROJECT_ROOT,
      env: userEnvironment({ DATA_DIR: dataDir, PORT: String(gatewayPort) }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    cleanUps.push(async () => {
      try {
        process.kill(-(shell.pid ?? 0), 'SIGTERM');
      } catch {
        // Already gone.
      }
    });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => shell.once('exit', resolve));
    expect({ code, stderr }).toMatchObject({ code: 0 });

    const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
    const [servers, call, ...rest] = lines.map((line) => JSON.parse(line));
    expect(servers.data.servers.edges).toEqual([
      {
        node: expect.objectContaining({
          name: 'weather',
          tools: [{ name: 'get_alerts' }, { name: 'get_forecast' }],
        }),
      },
    ]);
    expect(call.data.callTool).toMatchObject({ isError: false, attempts: 1 });
    expect(JSON.parse(call.data.callTool.content[0].text)).toMatchObject({ city: 'Oslo' });
    // Changes before the stop (a first probe's UNKNOWN -> HEALTHY) may come first; the failure comes last.
    const changes = rest.map((line) => line.serverHealthChanged).filter((change) => change !== undefined);
    expect(changes.at(-1)).toMatchObject({ server: { name: 'weather' }, error: expect.any(String) });
    expect(['DEGRADED', 'UNHEALTHY']).toContain(changes.at(-1).status);
    expect(stdout).toContain(`Dashboard: http://localhost:${gatewayPort}/`);
  });
});
