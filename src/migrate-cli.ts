import 'reflect-metadata';
import { loadConfig } from './config.js';
import { databaseTarget, initOrm } from './db/orm.js';
import { entities } from './entities.js';
import { createLogger } from './logger.js';

/**
 * `npm run migrate:up`             apply every pending migration
 * `npm run migrate:down`           revert the last migration (`-- --to 0` reverts all)
 * `npm run migrate:create [-- --initial]` write a migration for the difference between entities and snapshot
 */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const orm = await initOrm({ target: databaseTarget(config), entities });
  try {
    const migrator = orm.getMigrator();
    if (command === 'up') {
      const applied = await migrator.up();
      log.info({ applied: applied.map((m) => m.name) }, `applied ${applied.length} migration(s)`);
    } else if (command === 'down') {
      const toIndex = rest.indexOf('--to');
      const to = toIndex >= 0 ? rest[toIndex + 1] : undefined;
      const reverted = await migrator.down(to === undefined ? undefined : { to: to === '0' ? 0 : to });
      log.info({ reverted: reverted.map((m) => m.name) }, `reverted ${reverted.length} migration(s)`);
    } else if (command === 'create') {
      const result = await migrator.createMigration(undefined, false, rest.includes('--initial'));
      if (result.fileName) log.info({ file: result.fileName }, 'migration written');
      else log.info('entities and snapshot agree: no migration needed');
    } else {
      throw new Error(`unknown command "${command ?? ''}": use up, down or create`);
    }
  } finally {
    await orm.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
