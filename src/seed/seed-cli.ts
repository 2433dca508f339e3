import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/open-database.js';
import { type DatabaseTarget, databaseTarget } from '../db/orm.js';
import { entities } from '../entities.js';
import { CommandError, type EntryContext, runCommand } from '../entry-point.js';
import { barProgress } from './progress.js';
import {
  DEFAULT_SEED_OPTIONS,
  type SeedOptions,
  SeedOptionsError,
  SeedRefusedError,
  seedDatabase,
  validateSeedOptions,
} from './seed-database.js';
import { formatKeys, formatSummary, keysDocument } from './summary.js';

const d = DEFAULT_SEED_OPTIONS;
const USAGE = `Usage: npm run seed -- [options]

Fills the configured database (DATABASE_URL, or the embedded PGlite under DATA_DIR) with realistic tenants,
servers, tools, health history, audit and request logs, then prints API keys to use it with.

Options:
  --tenants <n>             tenants (default ${d.tenants})
  --servers <n>             servers, spread over the tenants (default ${d.servers})
  --tools-per-server <n>    tools per server (default ${d.toolsPerServer})
  --request-logs <n>        request log rows over the last 30 days (default ${d.requestLogs})
  --audit-logs <n>          audit log rows (default ${d.auditLogs})
  --checks-per-server <n>   health check history per probed server (default ${d.checksPerServer})
  --seed <n>                random seed: the same seed gives the same data (default ${d.seed})
  --batch-size <n>          rows per INSERT (default 10000 on PostgreSQL, 2000 on PGlite)
  --reset                   empty the application tables first (deletes every row in them)
  --keys-out <file>         write the API keys as JSON to <file> instead of printing them
  -h, --help                show this help

Migrations are applied first unless MIGRATE_ON_START=false.`;

/** A mistake in the command line: told with the usage. */
class UsageError extends CommandError {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
  }
}

const NUMERIC_OPTIONS = {
  tenants: 'tenants',
  servers: 'servers',
  'tools-per-server': 'toolsPerServer',
  'request-logs': 'requestLogs',
  'audit-logs': 'auditLogs',
  'checks-per-server': 'checksPerServer',
  seed: 'seed',
  'batch-size': 'batchSize',
} as const;

function parseOptions(argv: string[]): { options: SeedOptions; keysOut: string | undefined } {
  const values = parseFlags(argv);
  const options: Record<string, unknown> = { ...DEFAULT_SEED_OPTIONS, reset: values.reset ?? false };
  for (const [flag, field] of Object.entries(NUMERIC_OPTIONS)) {
    const raw = values[flag as keyof typeof NUMERIC_OPTIONS];
    if (raw === undefined) continue;
    // 1_000_000 and 1,000,000 read as 1000000.
    const digits = raw.replace(/[_,]/g, '');
    if (!/^\d+$/.test(digits)) throw new UsageError(`--${flag} expects a whole number, got "${raw}"`);
    options[field] = Number(digits);
  }
  return {
    options: options as unknown as SeedOptions,
    keysOut: values['keys-out'],
  };
}

function parseFlags(argv: string[]) {
  const numeric = Object.fromEntries(Object.keys(NUMERIC_OPTIONS).map((flag) => [flag, { type: 'string' }]));
  try {
    return parseArgs({
      args: argv,
      options: {
        ...(numeric as Record<keyof typeof NUMERIC_OPTIONS, { type: 'string' }>),
        reset: { type: 'boolean' },
        'keys-out': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    // parseArgs refuses unknown options and missing values with a TypeError whose message says which.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function describe(target: DatabaseTarget): string {
  if (target.kind === 'postgres') {
    const url = new URL(target.url);
    if (url.password !== '') url.password = '***';
    return `PostgreSQL ${url.toString()}`;
  }
  return target.kind === 'pglite' ? `embedded PGlite in ${target.dataDir}` : 'embedded PGlite';
}

async function main({ config, log }: EntryContext, argv: string[]): Promise<void> {
  const { options, keysOut } = parseOptions(argv);
  validateOptions(options); // before the database is opened
  const target = databaseTarget(config);
  const database = await openDatabase({
    target,
    entities,
    process: 'seed',
    migrate: config.migrateOnStart,
    log,
  });
  try {
    process.stderr.write(`Seeding ${describe(target)} (seed ${options.seed})\n`);
    const report = await seedDatabase(database.orm, options, barProgress(process.stderr));
    console.log(formatSummary(report));
    console.log('');
    if (keysOut !== undefined) {
      // The file holds working credentials: readable by its owner only.
      await writeFile(keysOut, keysDocument(report, new Date()), { mode: 0o600 });
      console.log(`API keys written to ${keysOut}`);
    } else {
      console.log(formatKeys(report.keys));
    }
  } catch (error) {
    if (error instanceof SeedRefusedError) throw new CommandError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

/** The seed's own checks of its numbers, told as a usage error naming the flag. */
function validateOptions(options: SeedOptions): void {
  try {
    validateSeedOptions(options);
  } catch (error) {
    if (!(error instanceof SeedOptionsError)) throw error;
    const flag = Object.entries(NUMERIC_OPTIONS).find(([, field]) => field === error.option)?.[0];
    throw new UsageError(`--${flag} must be a whole number from ${error.min} to ${error.max}.`);
  }
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) console.log(USAGE);
else runCommand((context) => main(context, argv));
