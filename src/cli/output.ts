/** How a list command prints: tab-separated lines for people and `cut`, or one JSON document for scripts. */
export function printRows<T extends Record<string, unknown>>(
  rows: readonly T[],
  columns: readonly (keyof T & string)[],
  json: boolean,
): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  for (const row of rows) console.log(columns.map((column) => textOf(row[column])).join('\t'));
}

/** One object: JSON for scripts, else its values tab-separated. */
export function printRecord(record: Record<string, unknown>, json: boolean): void {
  if (json) console.log(JSON.stringify(record, null, 2));
  else console.log(Object.values(record).map(textOf).join('\t'));
}

function textOf(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
