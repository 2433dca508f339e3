import 'reflect-metadata';
import { openKeyring } from './crypto/development-key.js';
import { openDatabase } from './db/open-database.js';
import { databaseTarget } from './db/orm.js';
import { entities } from './entities.js';
import { runService } from './entry-point.js';
import { publishCatalogChanges } from './gateway/catalog-changes.js';
import { CapabilityWatcher } from './health/capability-watcher.js';
import { HealthChecker } from './health/health-checker.js';
import { recordStatementSpan } from './observability/sql-tracing.js';
import { createEventBus } from './pubsub/pubsub.js';
import { sealStoredConnectionHeaders } from './registry/connection-headers.js';
import { RegistrySync } from './registry-import/registry-sync.js';

/**
 * `npm run worker`: the health checker (and the capability watcher, and the registry sync) alone, for fleets that keep probing off the API instances
 * (those run with HEALTH_CHECKER=off). Any number of workers may run: they share the work.
 */
runService('worker', async ({ config, log }) => {
  const database = await openDatabase({
    target: databaseTarget(config),
    entities,
    ...(config.tracing.enabled && { onStatement: recordStatementSpan }),
    process: 'worker',
    migrate: config.migrateOnStart,
    log,
  });
  const { orm } = database;
  const keyring = openKeyring(config, log);
  await sealStoredConnectionHeaders(orm, keyring, log);
  const eventBus = createEventBus(config.redisUrl, log);
  publishCatalogChanges(orm, eventBus.pubSub);
  const checker = new HealthChecker(orm, config.health, eventBus.pubSub, log, keyring);
  checker.start();
  const watcher =
    config.health.capabilityWatch.maxSessions > 0
      ? new CapabilityWatcher(orm, config.health, log, keyring)
      : null;
  watcher?.start();
  const registrySync = new RegistrySync(orm, config, log, keyring);
  registrySync.start();
  log.info({ intervalMs: config.health.intervalMs, eventBus: eventBus.kind }, 'health checker running');
  return {
    async close() {
      await Promise.all([checker.stop(), watcher?.stop(), registrySync.stop()]);
      await Promise.allSettled([database.close(), eventBus.close()]);
    },
  };
});
