import 'reflect-metadata';
import { openDatabase } from './db/open-database.js';
import { databaseTarget } from './db/orm.js';
import { entities } from './entities.js';
import { CommandError, runCommand } from './entry-point.js';

/**
 * `npm run migrate:up`             apply every pending migration
 * `npm run migrate:down`           revert the last migration (`-- --to 0` reverts all)
 * `npm run migrate:create [-- --initial]` write a migration for the difference between entities and snapshot
 */
const [command, ...rest] = process.argv.slice(2);

runCommand(async ({ config, log }) => {
  if (command !== 'up' && command !== 'down' && command !== 'create') {
    throw new CommandError(`unknown command "${command ?? ''}": use up, down or create`);
  }
  const database = await openDatabase({
    target: databaseTarget(config),
    entities,
    process: 'migrate',
    migrate: false,
    log,
  });
  try {
    const migrator = database.orm.getMigrator();
    if (command === 'up') {
      const applied = await migrator.up();
      log.info({ applied: applied.map((m) => m.name) }, `applied ${applied.length} migration(s)`);
    } else if (command === 'down') {
      const toIndex = rest.indexOf('--to');
      const to = toIndex >= 0 ? rest[toIndex + 1] : undefined;
      const reverted = await migrator.down(to === undefined ? undefined : { to: to === '0' ? 0 : to });
      log.info({ reverted: reverted.map((m) => m.name) }, `reverted ${reverted.length} migration(s)`);
    } else {
      const result = await migrator.createMigration(undefined, false, rest.includes('--initial'));
      if (result.fileName) log.info({ file: result.fileName }, 'migration written');
      else log.info('entities and snapshot agree: no migration needed');
    }
  } finally {
    await database.close();
  }
});
