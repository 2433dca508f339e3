import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../src/db/data-dir-lock.js';
import { openDatabase } from '../src/db/open-database.js';
import { entities } from '../src/entities.js';
import { createLogger } from '../src/logger.js';

let root: string;
let dataDir: string;
const quiet = { onCompromised: () => {} };

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mcp-lock-'));
  dataDir = path.join(root, 'pglite');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the embedded data directory lock', () => {
  it('lets one holder in and refuses the next, naming the holder, until it is released', async () => {
    const held = await lockDataDir(dataDir, { process: 'server', ...quiet });
    const refused = await lockDataDir(dataDir, { process: 'cli', ...quiet }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as DataDirLockedError).holder).toMatchObject({ process: 'server', pid: process.pid });
    expect((refused as Error).message).toMatch(
      new RegExp(
        `in use by the server \\(pid ${process.pid} on ${hostname()}, since .+\\)\\. Stop that process`,
      ),
    );
    await held.release();
    const next = await lockDataDir(dataDir, { process: 'cli', ...quiet });
    await next.release();
  });

  it('takes over the lock of a holder that was killed, once it has gone stale', async () => {
    // A holder in another process, killed while it holds the lock: nobody refreshes it any more.
    const script = `
      const lockfile = require('proper-lockfile');
      const fs = require('node:fs');
      lockfile.lock(${JSON.stringify(dataDir)}, { realpath: false, lockfilePath: ${JSON.stringify(`${dataDir}.lock`)}, stale: 5000 })
        .then(() => {
          fs.writeFileSync(${JSON.stringify(`${dataDir}.holder.json`)}, JSON.stringify({ process: 'server', pid: process.pid, hostname: require('node:os').hostname(), since: new Date().toISOString() }));
          console.log('locked');
        });
      setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      holder.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve()),
    );
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));

    const takenOver = await lockDataDir(dataDir, { process: 'cli', ...quiet });
    expect(JSON.parse(await readFile(`${dataDir}.holder.json`, 'utf8'))).toMatchObject({
      process: 'cli',
      pid: process.pid,
    });
    await takenOver.release();
  }, 20_000);

  it('stops a second process before it opens or writes anything', async () => {
    const held = await lockDataDir(dataDir, { process: 'server', ...quiet });
    const log = createLogger('silent');
    const opening = openDatabase({
      target: { kind: 'pglite', dataDir },
      entities,
      process: 'migrate',
      migrate: true,
      log,
    });
    await expect(opening).rejects.toBeInstanceOf(DataDirLockedError);
    expect(existsSync(dataDir)).toBe(false);
    await held.release();
  });
});
