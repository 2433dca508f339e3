import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

// PGlite is PostgreSQL in one process: two processes writing one data directory corrupt it beyond repair (the
// next start dies with `Aborted()`). Every process that opens an embedded data directory therefore holds an
// exclusive lock on it first (proper-lockfile: an atomic mkdir whose mtime the holder refreshes), and a second
// one stops before it has written anything.

/** How long a lock nobody refreshes stays valid: a holder that was killed loses it after this. */
const STALE_MS = 5_000;

/** Who holds a data directory, written beside the lock for the next process's message. */
export interface LockHolder {
  /** The kind of process: `server`, `worker`, `cli`, `migrate`, `seed`. */
  readonly process: string;
  readonly pid: number;
  readonly hostname: string;
  readonly since: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder
      ? `the ${holder.process} (pid ${holder.pid} on ${holder.hostname}, since ${holder.since})`
      : 'another process';
    super(
      `The embedded database in ${dataDir} is in use by ${who}. ` +
        'Stop that process first, or run against PostgreSQL (DATABASE_URL) to use several processes at once.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Lets the next process in. Safe to call twice. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Names the process in the message another process gets. */
  readonly process: string;
  /** Told when the lock was lost while held (its directory removed or its mtime changed by someone else). */
  readonly onCompromised: (error: Error) => void;
}

/**
 * Takes the lock of the PGlite directory `dataDir`, or throws DataDirLockedError naming its holder. A lock left
 * by a process that no longer runs (killed, or its machine restarted) is taken over once it has gone stale.
 */
export async function lockDataDir(dataDir: string, options: LockOptions): Promise<DataDirLock> {
  const paths = lockPaths(dataDir);
  mkdirSync(path.dirname(paths.lock), { recursive: true });
  const settings = {
    realpath: false,
    lockfilePath: paths.lock,
    stale: STALE_MS,
    onCompromised: options.onCompromised,
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, settings);
  } catch (error) {
    if (!isLocked(error)) throw error;
    const holder = readHolder(paths.holder);
    if (holder !== null && isRunning(holder)) throw new DataDirLockedError(dataDir, holder);
    // The holder is gone without releasing (or died before it said who it is): a lock nobody refreshes goes
    // stale within STALE_MS and is then taken over; one that is refreshed meanwhile still refuses us.
    try {
      release = await lockfile.lock(dataDir, {
        ...settings,
        retries: { retries: Math.ceil((STALE_MS * 2) / 250), minTimeout: 250, maxTimeout: 250, factor: 1 },
      });
    } catch (retryError) {
      if (isLocked(retryError)) throw new DataDirLockedError(dataDir, readHolder(paths.holder));
      throw retryError;
    }
  }
  const holder: LockHolder = {
    process: options.process,
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
  };
  writeFileSync(paths.holder, `${JSON.stringify(holder)}\n`);
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        rmSync(paths.holder, { force: true });
        await release().catch(() => {
          // Already lost (compromised): nothing is left to release.
        });
      })();
      return released;
    },
  };
}

/** `<dataDir>.lock` (the lock itself, a directory) and `<dataDir>.holder.json` beside the data directory. */
function lockPaths(dataDir: string) {
  const base = path.resolve(dataDir);
  return { lock: `${base}.lock`, holder: `${base}.holder.json` };
}

function isLocked(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ELOCKED';
}

function readHolder(file: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    // Not written yet (the holder is starting), or removed meanwhile.
    return null;
  }
}

/** Whether the holder still runs. On another host nobody can tell: it counts as running. */
function isRunning(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true;
  // A restarted container gives its process the pid its predecessor had: that holder is not us.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
