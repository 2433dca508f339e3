import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { createPostgresDatabase } from '../../support/database.js';
import {
  productionEnvironment,
  runCli,
  type ServerProcess,
  startServerProcess,
  userEnvironment,
} from './server-process.js';

/** The two configurations users run: the embedded default, and production on PostgreSQL + Redis. */
export type Configuration = 'embedded' | 'production';

export interface ConfigurationRun {
  /** Where the embedded default keeps its data directory. */
  readonly workDir: string;
  /** Settings both configurations get, beside their own. */
  readonly env: Record<string, string>;
  /** Filled with what the caller stops and removes after its tests. */
  readonly processes: ServerProcess[];
  readonly cleanUps: (() => Promise<unknown>)[];
}

/**
 * The built server started as users start it, with an admin key: on the embedded default the first key comes
 * from the CLI (as the README says), in production from ADMIN_API_KEY.
 */
export async function startConfiguration(
  configuration: Configuration,
  run: ConfigurationRun,
): Promise<{ server: ServerProcess; adminKey: string }> {
  if (configuration === 'embedded') {
    const env = userEnvironment({ PORT: '0', ...run.env });
    const dataDir = await mkdtemp(path.join(run.workDir, 'embedded-'));
    const created = await runCli(dataDir, env, ['key', 'create', '--name', 'operator', '--scopes', 'admin']);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const server = await startServerProcess(dataDir, env);
    run.processes.push(server);
    return { server, adminKey: created.stdout.trim() };
  }
  const database = await createPostgresDatabase();
  run.cleanUps.push(() => database.drop());
  const adminKey = `e2e-admin-${randomUUID()}`;
  const databaseUrl = database.target.kind === 'postgres' ? database.target.url : '';
  const server = await startServerProcess(run.workDir, productionEnvironment(databaseUrl, adminKey, run.env));
  run.processes.push(server);
  return { server, adminKey };
}
