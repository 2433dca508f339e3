import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentResult } from './agents.js';
import type { SeedSummary } from './database.js';
import type { ExplainedStatement } from './explain.js';
import type { LoadRun } from './load.js';
import type { MachineInfo } from './machine.js';
import type { ScenarioName } from './options.js';
import type { ProfileSummary } from './profile.js';
import type { SubscriptionResult } from './subscriptions.js';

/** One target of the performance issue, what was measured, and whether it is met (null: not measured). */
export interface TargetVerdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface HttpScenarioResult {
  readonly name: ScenarioName;
  readonly title: string;
  readonly description: string;
  /** What the check before the runs compared with the database. */
  readonly check: string;
  readonly statementsPerRequest: number;
  readonly statementSamples: readonly number[];
  /** The statements of one request, as the ORM logs them. */
  readonly statements: readonly string[];
  readonly warmup: { readonly seconds: number; readonly requests: number; readonly errors: number };
  readonly runs: readonly LoadRun[];
}

export interface BenchSettings {
  /** Without password. */
  readonly database: string;
  readonly reused: boolean;
  readonly seed: SeedSummary | null;
  readonly seedOptions: {
    readonly tenants: number;
    readonly servers: number;
    readonly toolsPerServer: number;
    readonly requestLogs: number;
  } | null;
  readonly durationSeconds: number;
  /** Measured runs per scenario and connection count (absent in older results: one). */
  readonly repeat?: number;
  readonly warmupSeconds: number;
  readonly connections: readonly number[];
  readonly eventBus: string;
  readonly server: string;
}

export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly scenarios: readonly HttpScenarioResult[];
  /** The ServerList scenarios on the hand-written reference server (bench/reference-server.ts), same data and load. */
  readonly references: readonly HttpScenarioResult[];
  readonly subscriptions: SubscriptionResult | null;
  /** MCP agents through /mcp/{id} against the upstream directly (absent in older results). */
  readonly agents?: AgentResult | null;
  readonly explains: readonly ExplainedStatement[];
  readonly profile: ProfileSummary | null;
  readonly targets: readonly TargetVerdict[];
}

export async function writeResults(file: string, results: BenchResults): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}

/** Results as written; numbers that were NaN come back as null, which the formatters show as a dash. */
export async function readResults(file: string): Promise<BenchResults> {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults;
  if (results.version !== 1) throw new Error(`${file} is not a results file of this benchmark`);
  return results;
}
