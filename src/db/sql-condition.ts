// Conditions of raw SQL statements (those on a hot path that skip the query builder): SQL text with `?`
// placeholders and their values in order, which MikroORM's connection binds (escapes) when it executes them.
// No value is ever written into the text.

/** One condition of a raw statement: `?` placeholders, their values in order. */
export interface SqlCondition {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** ` where (a) and (b) …` of `conditions`, or nothing when there are none; their values in order. */
export function whereSql(conditions: readonly SqlCondition[]): SqlCondition {
  if (conditions.length === 0) return { sql: '', values: [] };
  return {
    sql: ` where ${conditions.map((condition) => `(${condition.sql})`).join(' and ')}`,
    values: conditions.flatMap((condition) => condition.values),
  };
}

/** `?, ?, …`: one placeholder per value, for a list (`in (…)`, `array[…]`). */
export function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}
