import type { SeedKeys } from '../../src/seed/seed-database.js';
import type { Sql } from '../database.js';
import type { GraphQLReply } from '../graphql-http.js';
import type { ScenarioName } from '../options.js';

/** One kind of HTTP request the benchmark sends over and over, and how to tell its answer is right. */
export interface HttpScenario {
  readonly name: ScenarioName;
  /** The operation's name, e.g. ServerList. */
  readonly title: string;
  /** What is asked for, and with which key. */
  readonly description: string;
  /** The API key the requests carry. */
  readonly key: string;
  /** Whether every request needs a body of its own (a mutation creating something unique). */
  readonly varies: boolean;
  /** Whether the README shows EXPLAIN ANALYZE of its SQL. */
  readonly explain: boolean;
  /** The body of the next request. */
  nextBody(): string;
  /** Checks an answer to `body` against the database; says in words what was checked, or throws. */
  verify(reply: GraphQLReply<unknown>, body: string): Promise<string>;
  /** Removes what the scenario's requests created. */
  cleanUp?(): Promise<void>;
}

export interface ScenarioContext {
  readonly sql: Sql;
  readonly keys: SeedKeys;
  /** Distinguishes the names this run creates from those of earlier runs. */
  readonly runId: string;
}

/** GraphQL enum values are the SQL values in upper case. */
export const graphqlEnum = (sqlValue: string): string => sqlValue.toUpperCase();
