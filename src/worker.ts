import 'reflect-metadata';
import { ConfigError, loadConfig } from './config.js';
import { openKeyring } from './crypto/development-key.js';
import { databaseTarget, initOrm } from './db/orm.js';
import { entities } from './entities.js';
import { CapabilityWatcher } from './health/capability-watcher.js';
import { HealthChecker } from './health/health-checker.js';
import { createLogger } from './logger.js';
import { createEventBus } from './pubsub/pubsub.js';
import { sealStoredConnectionHeaders } from './registry/connection-headers.js';

/**
 * `npm run worker`: the health checker (and the capability watcher) alone, for fleets that keep probing off the API instances
 * (those run with HEALTH_CHECKER=off). Any number of workers may run: they share the work.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const keyring = openKeyring(config, log);
  const orm = await initOrm({ target: databaseTarget(config), entities });
  if (config.migrateOnStart) await orm.getMigrator().up();
  await sealStoredConnectionHeaders(orm, keyring, log);
  const eventBus = createEventBus(config.redisUrl, log);
  const checker = new HealthChecker(orm, config.health, eventBus.pubSub, log, keyring);
  checker.start();
  const watcher =
    config.health.capabilityWatch.maxSessions > 0
      ? new CapabilityWatcher(orm, config.health, log, keyring)
      : null;
  watcher?.start();
  log.info({ intervalMs: config.health.intervalMs, eventBus: eventBus.kind }, 'health checker running');

  const shutdown = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping the health checker');
    Promise.all([checker.stop(), watcher?.stop()])
      .then(() => Promise.allSettled([orm.close(), eventBus.close()]))
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `Invalid configuration: ${error.message}` : String(error);
  console.error(error instanceof Error && !(error instanceof ConfigError) ? error.message : message);
  process.exit(1);
});
