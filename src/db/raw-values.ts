// Rows read without entities (raw SQL, query builders executed as plain rows, JSON built by PostgreSQL) come
// back in each driver's own way: node-postgres under MikroORM gives timestamps as text and bigint as strings,
// PGlite gives Dates and numbers, and JSONB arrives parsed or as text. Every raw row goes through these
// conversions, so a value reads the same on both databases.

/**
 * A timestamp column as epoch milliseconds (`float8`): a number on every driver and inside JSON alike, and
 * cheaper for PostgreSQL to write and for JavaScript to read than text.
 */
export function epochMillisSql(column: string): string {
  return `(extract(epoch from ${column}) * 1000)::float8`;
}

/** A timestamp selected with `epochMillisSql`, as a Date. */
export function dateFromEpochMillis(value: unknown): Date {
  if (typeof value === 'number') return new Date(value);
  throw new TypeError(`expected epoch milliseconds, got ${typeof value}`);
}

/** Like `dateFromEpochMillis`, keeping SQL null as null. */
export function nullableDateFromEpochMillis(value: unknown): Date | null {
  return value === null || value === undefined ? null : dateFromEpochMillis(value);
}

/** A count or aggregate (bigint as a string, a number or a bigint): null counts as 0. */
export function numberOf(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** An aggregate that may be null (an average over no rows). */
export function nullableNumberOf(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A JSON or JSONB value, parsed whether the driver parsed it or handed over its text. */
export function parsedJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
