import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { BACKGROUND_LABEL } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { dataOf, postGraphQL } from './graphql-http.js';
import type { ScenarioName } from './options.js';
import type { HttpScenario } from './scenarios/scenario.js';
import { BENCH_ENCRYPTION_KEY } from './server-process.js';
import { median } from './stats.js';

/** The SQL one request of a scenario runs. */
export interface StatementCount {
  readonly scenario: ScenarioName;
  /** The median over the samples (they normally all agree). */
  readonly perRequest: number;
  readonly samples: readonly number[];
  /** The statements of one request as the ORM logs them (placeholders, not values). */
  readonly statements: readonly string[];
  /** The same statements as sent to PostgreSQL (values inlined): what EXPLAIN runs. */
  readonly executed: readonly string[];
}

const SAMPLES = 5;

/**
 * Counts the statements per request by running each scenario's request a few times against the application
 * started in this process with `onQuery`, the hook the tests count statements with. Background work (the
 * request-log writer's batches, usage timestamps) is labelled and left out, as in test/support/app.ts.
 */
export async function countStatements(
  databaseUrl: string,
  scenarios: readonly HttpScenario[],
): Promise<StatementCount[]> {
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    HEALTH_CHECKER: 'off',
    ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
  });
  let logged: string[] | null = null;
  let executed: string[] | null = null;
  const app = await startApp({
    config,
    log: createLogger(config.logLevel),
    onQuery: (message) => {
      if (!message.includes(`(${BACKGROUND_LABEL}:`)) logged?.push(normalise(message));
    },
  });
  app.orm.em
    .getConnection()
    .getKnex()
    .on('query', (query: { sql: string }) => {
      executed?.push(query.sql);
    });
  try {
    const counts: StatementCount[] = [];
    for (const scenario of scenarios) {
      // One request first: whatever a first request does once is not what every request costs.
      dataOf(await postGraphQL(app.url, scenario.key, scenario.nextBody()), scenario.title);
      const samples: number[] = [];
      let statements: string[] = [];
      let sent: string[] = [];
      for (let sample = 0; sample < SAMPLES; sample += 1) {
        logged = [];
        executed = [];
        dataOf(await postGraphQL(app.url, scenario.key, scenario.nextBody()), scenario.title);
        samples.push(logged.length);
        statements = logged;
        sent = executed;
        logged = null;
        executed = null;
      }
      counts.push({
        scenario: scenario.name,
        perRequest: median(samples),
        samples,
        statements,
        executed: sent,
      });
    }
    return counts;
  } finally {
    await app.close();
  }
}

/** `[query] select … [took 2 ms, 1 result]` → `select …`. */
function normalise(message: string): string {
  return message
    .replace(/^\[query\]\s*/, '')
    .replace(/\s*\[took [^\]]*\]\s*$/, '')
    .trim();
}
