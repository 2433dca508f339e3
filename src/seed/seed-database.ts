import type { Knex } from '@mikro-orm/postgresql';
import { PGliteDriver } from 'mikro-orm-pglite';
import type { EntityManager, Orm } from '../db/orm.js';
import { createAccounts, type SeededAccounts } from './accounts.js';
import { auditLogRows } from './audit-trail.js';
import { type BulkTable, insertRows, type SqlRunner } from './bulk-insert.js';
import { type PlannedServer, planServers } from './fleet.js';
import { healthCheckCount, healthCheckRows } from './probes.js';
import { type PhaseProgress, type SeedProgress, silentProgress } from './progress.js';
import { Random } from './random.js';
import {
  auditLogsTable,
  circuitBreakersTable,
  healthChecksTable,
  promptsTable,
  requestLogsTable,
  resourcesTable,
  serversTable,
  toolsTable,
} from './tables.js';
import { MAX_TOOLS_PER_SERVER, toolRows } from './tools.js';
import { requestLogRows } from './traffic.js';

export interface SeedOptions {
  readonly tenants: number;
  readonly servers: number;
  readonly toolsPerServer: number;
  readonly requestLogs: number;
  /** Audit rows in all: the creation of the seeded data first, then day-to-day changes. */
  readonly auditLogs: number;
  /** Probe history per server (servers never probed have none). */
  readonly checksPerServer: number;
  /** The same seed gives the same rows (API key secrets and ids aside). */
  readonly seed: number;
  /** Empty the application tables first. Without it, a database that has tenants is refused. */
  readonly reset: boolean;
  /** Where the seeded history ends; now by default. */
  readonly now?: Date;
  /** Rows per INSERT; by default 10,000 on PostgreSQL and 2,000 on the embedded PGlite. */
  readonly batchSize?: number;
}

export const DEFAULT_SEED_OPTIONS: SeedOptions = {
  tenants: 20,
  servers: 2000,
  toolsPerServer: 10,
  requestLogs: 1_000_000,
  auditLogs: 20_000,
  checksPerServer: 20,
  seed: 42,
  reset: false,
};

/** Bounds of each numeric option: [smallest, largest]. */
export const SEED_OPTION_LIMITS = {
  tenants: [1, 100_000],
  servers: [0, 1_000_000],
  toolsPerServer: [0, MAX_TOOLS_PER_SERVER],
  requestLogs: [0, 100_000_000],
  auditLogs: [0, 10_000_000],
  checksPerServer: [0, 1000],
  seed: [0, 2 ** 32 - 1],
  batchSize: [1, 100_000],
} as const satisfies Partial<Record<keyof SeedOptions, readonly [number, number]>>;

export interface SeedKeys {
  /** A platform key with every scope. */
  readonly admin: { readonly id: string; readonly key: string };
  /** One usable READ+WRITE key per tenant, biggest fleet first. */
  readonly tenants: readonly {
    readonly tenantId: string;
    readonly tenantName: string;
    readonly keyId: string;
    readonly key: string;
    readonly servers: number;
  }[];
}

export interface PhaseReport {
  readonly name: string;
  readonly rows: number;
  readonly seconds: number;
}

export interface SeedReport {
  readonly seed: number;
  readonly seconds: number;
  /** Rows written per table. */
  readonly rows: Readonly<Record<string, number>>;
  readonly phases: readonly PhaseReport[];
  readonly keys: SeedKeys;
}

/** A seed that would mix its rows into existing data. */
export class SeedRefusedError extends Error {
  constructor(readonly tenants: number) {
    super(
      `The database already has ${tenants} tenant${tenants === 1 ? '' : 's'}. Seed with --reset to empty ` +
        'the application tables first (this deletes every row in them), or point DATABASE_URL / DATA_DIR ' +
        'at another database.',
    );
    this.name = 'SeedRefusedError';
  }
}

export class SeedOptionsError extends Error {
  constructor(
    readonly option: keyof typeof SEED_OPTION_LIMITS,
    readonly min: number,
    readonly max: number,
  ) {
    super(`${option} must be a whole number from ${min} to ${max}.`);
    this.name = 'SeedOptionsError';
  }
}

export function validateSeedOptions(options: SeedOptions): void {
  for (const [name, [min, max]] of Object.entries(SEED_OPTION_LIMITS)) {
    const option = name as keyof typeof SEED_OPTION_LIMITS;
    const value = options[option];
    if (value === undefined && option === 'batchSize') continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new SeedOptionsError(option, min, max);
    }
  }
}

/**
 * Fills the database with realistic rows (see the issue "Seed data"). Everything but the final VACUUM
 * ANALYZE runs in one transaction: a seed that fails leaves the database as it was.
 */
export async function seedDatabase(
  orm: Orm,
  options: SeedOptions,
  progress: SeedProgress = silentProgress,
): Promise<SeedReport> {
  validateSeedOptions(options);
  const started = performance.now();
  const now = (options.now ?? new Date()).getTime();
  const batchSize = options.batchSize ?? (orm.em.getDriver() instanceof PGliteDriver ? 2_000 : 10_000);
  const random = (stream: string) => new Random(options.seed, stream);
  const clock = new PhaseClock(progress);
  const rows: Record<string, number> = {};
  const tables = applicationTables(orm);

  const { accounts, servers } = await orm.em.fork().transactional(async (em) => {
    const tenants = await countTenants(em);
    if (tenants > 0 && !options.reset) throw new SeedRefusedError(tenants);
    if (options.reset) {
      await clock.run('reset', tables.length, async (step) => {
        await em.execute(`truncate table ${tables.map((table) => `"${table}"`).join(', ')} cascade`);
        step.add(tables.length);
      });
    }
    const run = sqlRunner(em);
    const insert = async <Row>(table: BulkTable<Row>, source: Iterable<Row>, step: PhaseProgress) => {
      rows[table.name] = await insertRows(run, table, source, { batchSize, onBatch: step.add });
    };

    const accounts = await clock.run('accounts', options.tenants, async (step) => {
      const created = await createAccounts(em, random('accounts'), options.tenants, now);
      Object.assign(rows, created.rows);
      step.add(created.rows.tenants);
      return created;
    });
    const servers = planServers(random('servers'), accounts.tenants, options.servers, now);
    await clock.run('servers', servers.length * 2, async (step) => {
      await insert(
        serversTable,
        servers.map((server) => server.row),
        step,
      );
      await insert(
        circuitBreakersTable,
        servers.map((server) => server.breaker),
        step,
      );
    });
    await clock.run('tools', servers.length * options.toolsPerServer, (step) =>
      insert(toolsTable, toolRows(random('tools'), servers, options.toolsPerServer), step),
    );
    const resources = servers.flatMap((server) => server.resources);
    const prompts = servers.flatMap((server) => server.prompts);
    await clock.run('resources+prompts', resources.length + prompts.length, async (step) => {
      await insert(resourcesTable, resources, step);
      await insert(promptsTable, prompts, step);
    });
    await clock.run('health checks', healthCheckCount(servers, options.checksPerServer), (step) =>
      insert(
        healthChecksTable,
        healthCheckRows(random('health checks'), servers, options.checksPerServer),
        step,
      ),
    );
    await clock.run('audit logs', options.auditLogs, (step) =>
      insert(
        auditLogsTable,
        auditLogRows(random('audit logs'), accounts, servers, options.auditLogs, now),
        step,
      ),
    );
    await clock.run('request logs', options.requestLogs, (step) =>
      insert(
        requestLogsTable,
        requestLogRows(random('request logs'), accounts, serverCounts(servers), options.requestLogs, now),
        step,
      ),
    );
    return { accounts, servers };
  });

  // What autovacuum would have done by the time a real database held this much: planner statistics, and
  // the visibility map that index-only scans need. Benchmarks measure the steady state, not the first minute.
  await clock.run('vacuum analyze', tables.length, async (step) => {
    const em = orm.em.fork();
    for (const table of tables) {
      await em.execute(`vacuum (analyze) "${table}"`);
      step.add(1);
    }
  });

  return {
    seed: options.seed,
    seconds: (performance.now() - started) / 1000,
    rows,
    phases: clock.phases,
    keys: keysOf(accounts, servers),
  };
}

/** Times each phase and shows its progress. */
class PhaseClock {
  readonly phases: PhaseReport[] = [];

  constructor(private readonly progress: SeedProgress) {}

  async run<T>(name: string, total: number, work: (step: PhaseProgress) => Promise<T>): Promise<T> {
    const started = performance.now();
    const shown = this.progress.phase(name, total);
    let rows = 0;
    const result = await work({
      add: (count) => {
        rows += count;
        shown.add(count);
      },
      end: () => {},
    });
    shown.end();
    this.phases.push({ name, rows, seconds: (performance.now() - started) / 1000 });
    return result;
  }
}

/** Every table the ORM maps: what `reset` empties and VACUUM ANALYZE visits. */
function applicationTables(orm: Orm): string[] {
  return Object.values(orm.getMetadata().getAll())
    .filter((meta) => !meta.abstract && !meta.embeddable && !meta.virtual && meta.tableName)
    .map((meta) => meta.tableName)
    .sort();
}

async function countTenants(em: EntityManager): Promise<number> {
  const [row] = await em.execute<{ count: number }[]>('select count(*)::int as count from "tenants"');
  return row?.count ?? 0;
}

/** Statements with bound parameters inside the seed's transaction (the ORM would inline them as literals). */
function sqlRunner(em: EntityManager): SqlRunner {
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction === undefined) throw new Error('the seed writes inside a transaction');
  return (sql, bindings) => transaction.raw(sql, [...bindings] as Knex.RawBinding[]);
}

function serverCounts(servers: readonly PlannedServer[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const server of servers) counts.set(server.tenant.id, (counts.get(server.tenant.id) ?? 0) + 1);
  return counts;
}

function keysOf(accounts: SeededAccounts, servers: readonly PlannedServer[]): SeedKeys {
  const counts = serverCounts(servers);
  const tenants = accounts.tenants.map((tenant) => {
    const key = tenant.keys[0];
    if (key === undefined) throw new Error(`tenant ${tenant.name} has no key`);
    return {
      tenantId: tenant.id,
      tenantName: tenant.name,
      keyId: key.id,
      key: key.key,
      servers: counts.get(tenant.id) ?? 0,
    };
  });
  return {
    admin: { id: accounts.admin.id, key: accounts.admin.key },
    tenants: tenants.sort((a, b) => b.servers - a.servers || a.tenantName.localeCompare(b.tenantName)),
  };
}
