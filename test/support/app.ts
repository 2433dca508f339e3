import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { type RunningApp, startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { BACKGROUND_LABEL, type DatabaseTarget } from '../../src/db/orm.js';
import { createLogger } from '../../src/logger.js';
import { createPostgresDatabase } from './database.js';

/** The platform admin key every test app is started with. */
export const ADMIN_KEY = 'test-admin-key-0123456789abcdefghij';

/** The ENCRYPTION_KEY every test app is started with, unless a test gives its own (hex, 32 bytes). */
export const TEST_ENCRYPTION_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

export interface TestApp extends RunningApp {
  /** POSTs a GraphQL operation; `key: null` sends no Authorization header. */
  graphql<T = Record<string, unknown>>(request: GraphQLRequest): Promise<GraphQLResponse<T>>;
  /** The server's origin, e.g. `http://127.0.0.1:39123`. */
  readonly origin: string;
  /**
   * Runs `work` and returns the SQL statements the server ran meanwhile (besides its result), those it wrote
   * behind its answers (agents' audit rows) included.
   */
  countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
}

export interface GraphQLRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
}

export interface GraphQLResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly data: T | null | undefined;
  readonly errors: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] | undefined;
}

export interface TestAppOptions {
  /** Receives the app's log lines (JSON), instead of nothing. */
  readonly logTo?: DestinationStream;
}

/** Starts the real application on a random port against `database`, with the given extra environment. */
export async function startTestApp(
  database: DatabaseTarget,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  // The health checker stays off unless a test turns it on: seeded servers point at hosts that do not exist.
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    HEALTH_CHECKER: 'off',
    // Every test app counts in its own Redis keys, and tests about other things may send many bad keys.
    REDIS_KEY_PREFIX: `test-${randomUUID()}:`,
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...env,
  });
  let recording: string[] | null = null;
  // Background work (request-log batches, usage timestamps) is not part of any request's cost.
  const onQuery = (message: string) => {
    if (!message.includes(`(${BACKGROUND_LABEL}:`)) recording?.push(message);
  };
  const log = createLogger(config.logLevel, options.logTo);
  const app = await startApp({ config, log, database, onQuery });
  const origin = new URL(app.url).origin;
  return {
    ...app,
    origin,
    async countStatements(work) {
      // Rows of earlier requests still being written are theirs, not `work`'s.
      await app.auditWrites.settled();
      recording = [];
      try {
        const result = await work();
        await app.auditWrites.settled();
        return { result, statements: recording };
      } finally {
        recording = null;
      }
    },
    async graphql<T>({ query, variables, key = ADMIN_KEY, headers = {} }: GraphQLRequest) {
      const response = await fetch(app.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T | null; errors?: GraphQLResponse<T>['errors'] };
      return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
    },
  };
}

/** Two instances of the application on one new PostgreSQL database, as a fleet behind a load balancer. */
export interface Fleet {
  readonly instanceA: TestApp;
  readonly instanceB: TestApp;
  /** Closes both instances and drops the database. */
  close(): Promise<void>;
}

/**
 * Starts a fleet: A applies the migrations, B starts on the migrated database. `env` goes to both (pass
 * `REDIS_URL` for a shared event bus); they share one Redis key prefix, as instances of one deployment do.
 */
export async function startFleet(env: Record<string, string> = {}): Promise<Fleet> {
  const database = await createPostgresDatabase();
  const shared = { REDIS_KEY_PREFIX: `test-${randomUUID()}:`, ...env };
  const instanceA = await startTestApp(database.target, shared);
  const instanceB = await startTestApp(database.target, { ...shared, MIGRATE_ON_START: 'false' });
  return {
    instanceA,
    instanceB,
    async close() {
      await Promise.allSettled([instanceA.close(), instanceB.close()]);
      await database.drop();
    },
  };
}
