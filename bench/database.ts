import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { initOrm } from '../src/db/orm.js';
import { entities } from '../src/entities.js';
import { barProgress } from '../src/seed/progress.js';
import {
  DEFAULT_SEED_OPTIONS,
  type SeedKeys,
  type SeedReport,
  seedDatabase,
} from '../src/seed/seed-database.js';
import { keysDocument } from '../src/seed/summary.js';
import { progress } from './log.js';
import { type BenchOptions, databaseName } from './options.js';
import { shownPath } from './paths.js';

/** The bench's own connection to the database: checks of responses, set-up of scenarios, EXPLAIN. */
export class Sql {
  private constructor(private readonly client: pg.Client) {}

  static async connect(url: string): Promise<Sql> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new Sql(client);
  }

  async rows<T extends pg.QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.client.query<T>(text, [...params]);
    return result.rows;
  }

  async one<T extends pg.QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<T> {
    const [row] = await this.rows<T>(text, params);
    if (row === undefined) throw new Error(`expected a row from: ${text}`);
    return row;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** Drops the database named in `url` and creates it empty, through the server's `postgres` database. */
export async function recreateDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = await Sql.connect(maintenance.toString());
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    await admin.rows(`drop database if exists ${quoted} with (force)`);
    await admin.rows(`create database ${quoted}`);
  } finally {
    await admin.close();
  }
}

export interface SeedSummary {
  readonly seconds: number;
  readonly rows: Readonly<Record<string, number>>;
}

/** Migrates and seeds the (empty) database, and keeps the API keys for later runs with --reuse. */
export async function seedBenchDatabase(
  options: BenchOptions,
): Promise<{ keys: SeedKeys; summary: SeedSummary }> {
  const orm = await initOrm({ target: { kind: 'postgres', url: options.databaseUrl }, entities });
  let report: SeedReport;
  try {
    await orm.getMigrator().up();
    report = await seedDatabase(
      orm,
      {
        ...DEFAULT_SEED_OPTIONS,
        tenants: options.tenants,
        servers: options.servers,
        toolsPerServer: options.toolsPerServer,
        requestLogs: options.requestLogs,
      },
      barProgress(process.stderr),
    );
  } finally {
    await orm.close();
  }
  await mkdir(path.dirname(options.keysFile), { recursive: true });
  // Working credentials: readable by their owner only.
  await writeFile(options.keysFile, keysDocument(report, new Date()), { mode: 0o600 });
  progress('seed', `done in ${report.seconds.toFixed(1)} s; API keys kept in ${shownPath(options.keysFile)}`);
  return { keys: report.keys, summary: { seconds: report.seconds, rows: report.rows } };
}

/** The keys of an earlier seed (`--keys`, or `npm run seed -- --keys-out <file>`). */
export async function readKeys(file: string): Promise<SeedKeys> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(
      `--reuse needs the API keys of the seeded database, and ${shownPath(file)} cannot be read. Run the ` +
        'bench once without --reuse, or seed with `npm run seed -- --keys-out <file>` and pass --keys <file>.',
    );
  }
  const keys = JSON.parse(text) as Partial<SeedKeys>;
  if (typeof keys.admin?.key !== 'string' || !Array.isArray(keys.tenants) || keys.tenants.length === 0) {
    throw new Error(`${shownPath(file)} does not hold seeded API keys (admin and tenants).`);
  }
  return keys as SeedKeys;
}
