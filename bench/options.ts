import { parseArgs } from 'node:util';
import { DEFAULT_SEED_OPTIONS, SEED_OPTION_LIMITS } from '../src/seed/seed-database.js';
import { DEFAULT_KEYS_FILE, DEFAULT_RESULTS_FILE, shownPath } from './paths.js';

export const SCENARIO_NAMES = [
  'server-list',
  'server-list-schemas',
  'discover',
  'search',
  'dashboard',
  'register',
  'subscriptions',
  'agents',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface BenchOptions {
  readonly databaseUrl: string;
  /** Use the database as it is (seeded before, keys in `keysFile`) instead of dropping and seeding it. */
  readonly reuse: boolean;
  readonly keysFile: string;
  readonly tenants: number;
  readonly servers: number;
  readonly toolsPerServer: number;
  readonly requestLogs: number;
  /** Seconds of each measured run. */
  readonly duration: number;
  /** Measured runs per scenario and connection count: tables report their median and spread. */
  readonly repeat: number;
  /** Seconds of load before each scenario's measured runs (not counted). */
  readonly warmup: number;
  readonly connections: readonly number[];
  readonly scenarios: readonly ScenarioName[];
  readonly subscribers: number;
  readonly burst: number;
  /** Redis for the server's event bus, or null for in-process pub/sub. */
  readonly redisUrl: string | null;
  readonly profile: boolean;
  /** Measure ServerList on the hand-written reference server too. */
  readonly reference: boolean;
  readonly resultsFile: string;
  /** Only render bench/README.md from the results file. */
  readonly readmeOnly: boolean;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/mcp_bench';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const d = DEFAULT_SEED_OPTIONS;

export const USAGE = `Usage: npm run bench -- [options]

Seeds a PostgreSQL database, starts the compiled server (NODE_ENV=production) as a child process and drives it
with autocannon: one table per scenario, results in bench/results/latest.json and bench/README.md.

Database:
  --database-url <url>      PostgreSQL database (default ${DEFAULT_DATABASE_URL}); it is DROPPED and
                            created again unless --reuse, so its name must contain "bench"
  --reuse                   use the database as seeded before (keys from --keys)
  --keys <file>             seeded API keys, written after seeding, read with --reuse
                            (default ${shownPath(DEFAULT_KEYS_FILE)})
  --tenants <n>             seed: tenants (default ${d.tenants})
  --servers <n>             seed: servers (default ${d.servers})
  --tools-per-server <n>    seed: tools per server (default ${d.toolsPerServer})
  --request-logs <n>        seed: request log rows (default ${d.requestLogs})

Load:
  --duration <s>            seconds per measured run (default 10)
  --repeat <n>              measured runs per scenario and connection count; tables show the median and
                            the spread (default 3)
  --warmup <s>              seconds of load before each scenario, not counted (default 5)
  --connections <list>      connection counts, comma-separated (default 1,20)
  --scenarios <list>        some of ${SCENARIO_NAMES.join(',')} (default all)
  --subscribers <n>         graphql-ws subscribers (default 1000)
  --burst <n>               circuit breaker changes published at once (default 100)
  --redis                   give the server an event bus on Redis (REDIS_URL)
  --redis-url <url>         which Redis (default ${DEFAULT_REDIS_URL}; implies --redis)
  --skip-profile            no CPU profile of the ServerList scenario
  --skip-reference          no ServerList runs on the hand-written reference server

Output:
  --out <file>              results JSON (default ${shownPath(DEFAULT_RESULTS_FILE)}); bench/README.md is
                            rendered from it
  --readme-only             render bench/README.md from --out again, run nothing
  -h, --help                show this help`;

export class UsageError extends Error {}

const NUMERIC = {
  tenants: SEED_OPTION_LIMITS.tenants,
  servers: SEED_OPTION_LIMITS.servers,
  'tools-per-server': SEED_OPTION_LIMITS.toolsPerServer,
  'request-logs': SEED_OPTION_LIMITS.requestLogs,
  duration: [1, 3600],
  repeat: [1, 25],
  warmup: [0, 600],
  subscribers: [1, 100_000],
  burst: [1, 10_000],
} as const;
type NumericFlag = keyof typeof NUMERIC;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const numeric = Object.fromEntries(Object.keys(NUMERIC).map((flag) => [flag, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      ...(numeric as Record<NumericFlag, { type: 'string' }>),
      'database-url': { type: 'string' },
      reuse: { type: 'boolean' },
      keys: { type: 'string' },
      connections: { type: 'string' },
      scenarios: { type: 'string' },
      redis: { type: 'boolean' },
      'redis-url': { type: 'string' },
      'skip-profile': { type: 'boolean' },
      'skip-reference': { type: 'boolean' },
      out: { type: 'string' },
      'readme-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const number = (flag: NumericFlag, fallback: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const [min, max] = NUMERIC[flag];
    const value = Number(raw.replace(/[_,]/g, ''));
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}".`);
    }
    return value;
  };
  const databaseUrl = values['database-url'] ?? DEFAULT_DATABASE_URL;
  const reuse = values.reuse ?? false;
  checkDatabaseUrl(databaseUrl, reuse);
  const redis = values.redis === true || values['redis-url'] !== undefined;
  return {
    databaseUrl,
    reuse,
    keysFile: values.keys ?? DEFAULT_KEYS_FILE,
    tenants: number('tenants', d.tenants),
    servers: number('servers', d.servers),
    toolsPerServer: number('tools-per-server', d.toolsPerServer),
    requestLogs: number('request-logs', d.requestLogs),
    duration: number('duration', 10),
    repeat: number('repeat', 3),
    warmup: number('warmup', 5),
    connections: parseConnections(values.connections ?? '1,20'),
    scenarios: parseScenarios(values.scenarios),
    subscribers: number('subscribers', 1000),
    burst: number('burst', 100),
    redisUrl: redis ? (values['redis-url'] ?? DEFAULT_REDIS_URL) : null,
    profile: !(values['skip-profile'] ?? false),
    reference: !(values['skip-reference'] ?? false),
    resultsFile: values.out ?? DEFAULT_RESULTS_FILE,
    readmeOnly: values['readme-only'] ?? false,
  };
}

/** The database the bench may drop: a PostgreSQL URL naming a database meant for benchmarks. */
function checkDatabaseUrl(raw: string, reuse: boolean): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--database-url is not a valid URL: "${raw}".`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError('--database-url must start with postgres:// or postgresql://.');
  }
  const name = databaseName(raw);
  if (name === '') throw new UsageError('--database-url must name a database, e.g. .../mcp_bench.');
  if (!reuse && !name.includes('bench')) {
    throw new UsageError(
      `Without --reuse the bench drops the database "${name}" and creates it again. Name a database whose ` +
        'name contains "bench", or pass --reuse to use it as it is.',
    );
  }
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

function parseConnections(raw: string): number[] {
  const counts = raw.split(',').map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((count) => !Number.isInteger(count) || count < 1 || count > 1000)) {
    throw new UsageError(`--connections expects whole numbers from 1 to 1000, e.g. 1,20; got "${raw}".`);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

function parseScenarios(raw: string | undefined): ScenarioName[] {
  if (raw === undefined) return [...SCENARIO_NAMES];
  const names = raw.split(',').map((part) => part.trim());
  const unknown = names.filter((name) => !SCENARIO_NAMES.some((known) => known === name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--scenarios takes some of ${SCENARIO_NAMES.join(', ')}; got "${raw}".`);
  }
  return SCENARIO_NAMES.filter((name) => names.includes(name));
}
