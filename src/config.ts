import path from 'node:path';

/** The runtime configuration, read from the environment once at start-up. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; `undefined` selects the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** Where the embedded PGlite database lives when `databaseUrl` is unset. */
  readonly dataDir: string;
  /** Redis connection string; `undefined` selects in-process pub/sub. */
  readonly redisUrl: string | undefined;
  /** When set, ensured at start-up as a platform admin key. Never logged. */
  readonly adminApiKey: string | undefined;
  readonly logLevel: LogLevel;
  readonly migrateOnStart: boolean;
  readonly nodeEnv: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown when an environment variable has a value the application cannot use. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the environment. Throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  return {
    port: readPort(env, 'PORT', 4000),
    host: readString(env, 'HOST') ?? '0.0.0.0',
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: path.resolve(readString(env, 'DATA_DIR') ?? '.data'),
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    adminApiKey: readAdminKey(env),
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    migrateOnStart: readBoolean(env, 'MIGRATE_ON_START', true),
    nodeEnv: readString(env, 'NODE_ENV') ?? 'development',
  };
}

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new ConfigError(name, `expected a port number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function readUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      name,
      `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );
  }
  return raw;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

function readEnum<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  const match = values.find((value) => value === raw);
  if (match === undefined) throw new ConfigError(name, `expected one of ${values.join(', ')}, got "${raw}"`);
  return match;
}

const MIN_ADMIN_KEY_LENGTH = 24;

function readAdminKey(env: Env): string | undefined {
  const key = readString(env, 'ADMIN_API_KEY');
  if (key !== undefined && key.length < MIN_ADMIN_KEY_LENGTH) {
    // The key itself is never echoed: the message says only what is wrong with it.
    throw new ConfigError('ADMIN_API_KEY', `must be at least ${MIN_ADMIN_KEY_LENGTH} characters long`);
  }
  return key;
}
