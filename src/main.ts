import 'reflect-metadata';
import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line naming the variable, then stop: nothing has started yet.
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const database = config.databaseUrl ? 'postgresql' : `pglite (${config.dataDir})`;
  const app = await startApp({ config, log });
  log.info({ url: app.url, database, eventBus: app.eventBus.kind }, 'MCP registry gateway listening');

  const shutdown = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down: draining HTTP and websockets');
    app
      .close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
