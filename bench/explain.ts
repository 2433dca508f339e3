import type { Sql } from './database.js';
import type { ScenarioName } from './options.js';

/** The plan PostgreSQL runs one statement of a scenario with. */
export interface ExplainedStatement {
  readonly scenario: ScenarioName;
  readonly sql: string;
  /** EXPLAIN (ANALYZE, BUFFERS) output, costs left out for reading. */
  readonly plan: string;
  /** Indexes the plan reads, in plan order. */
  readonly indexes: readonly string[];
  /** Tables the plan reads whole. */
  readonly seqScans: readonly string[];
  readonly executionMs: number;
}

/**
 * EXPLAIN ANALYZE of the statements a request ran, exactly as they were sent (values inlined). The API-key
 * lookup every request starts with is left out. Each statement runs twice and the second plan is kept: the
 * benchmark measures a warm cache.
 */
export async function explainStatements(
  sql: Sql,
  scenario: ScenarioName,
  executed: readonly string[],
): Promise<ExplainedStatement[]> {
  const explained: ExplainedStatement[] = [];
  for (const statement of executed) {
    if (!/^\s*(select|with)\b/i.test(statement) || statement.includes('"api_keys"')) continue;
    const command = `explain (analyze, buffers, costs off) ${statement}`;
    await sql.rows(command);
    const rows = await sql.rows<{ 'QUERY PLAN': string }>(command);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    explained.push({
      scenario,
      sql: statement,
      plan,
      indexes: unique(
        matches(plan, /(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/g),
      ),
      seqScans: unique(matches(plan, /Seq Scan on (\S+)/g)),
      executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN),
    });
  }
  return explained;
}

function matches(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((match) => match[1] ?? '');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
