import 'reflect-metadata';
import { startApp } from './app.js';
import { runService } from './entry-point.js';

runService('server', async ({ config, log }) => {
  const app = await startApp({ config, log });
  const database = config.databaseUrl ? 'postgresql' : `pglite (${config.dataDir})`;
  log.info({ url: app.url, database, eventBus: app.eventBus.kind }, 'MCP registry gateway listening');
  return app;
});
