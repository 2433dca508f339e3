import type { Logger } from '../logger.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { initOrm, type Orm, type OrmSettings } from './orm.js';

export interface OpenDatabaseSettings extends OrmSettings {
  /** The kind of process opening it (`server`, `cli`, …), named to a second process the lock refuses. */
  readonly process: string;
  /** Apply pending migrations once it is open (MIGRATE_ON_START for the server and the CLI). */
  readonly migrate: boolean;
  readonly log: Logger;
}

export interface OpenDatabase {
  readonly orm: Orm;
  /** Closes the ORM, then lets the next process into an embedded data directory. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The one way a process opens its database: an embedded data directory is locked first (so nothing is
 * written when another process holds it), then the ORM is opened and, if asked, migrated.
 */
export async function openDatabase(settings: OpenDatabaseSettings): Promise<OpenDatabase> {
  const { target, log } = settings;
  const lock: DataDirLock | null =
    target.kind === 'pglite'
      ? await lockDataDir(target.dataDir, {
          process: settings.process,
          onCompromised: (error) =>
            log.error(
              { err: error.message, dataDir: target.dataDir },
              'lost the lock of the embedded data directory: another process may be writing it',
            ),
        })
      : null;
  let orm: Orm;
  try {
    orm = await initOrm(settings);
  } catch (error) {
    await lock?.release();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= orm.close().finally(() => lock?.release());
    return closing;
  };
  try {
    if (settings.migrate) {
      const applied = await orm.getMigrator().up();
      if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { orm, close };
}
