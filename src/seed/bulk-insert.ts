/**
 * Fast multi-row inserts without COPY: each batch is one statement,
 * `insert into t (a, b) select ... from unnest($1::uuid[], $2::text[])`, whose parameters are whole columns
 * as PostgreSQL array literals. The statement text is the same for every batch; the parameters are bound by
 * the driver (pg or PGlite), never spliced into the SQL.
 */

/** Runs one statement with bound parameters (`?` placeholders). */
export type SqlRunner = (sql: string, bindings: readonly unknown[]) => Promise<unknown>;

export type ColumnType = 'uuid' | 'text' | 'int' | 'float' | 'bool' | 'timestamptz' | 'jsonb' | 'text[]';

/** What a column holds, per type: timestamps as epoch milliseconds, JSON as any JSON value. */
type ColumnValue = string | number | boolean | null | readonly string[] | object;

export interface ValueColumn<Row> {
  readonly name: string;
  readonly type: ColumnType;
  readonly value: (row: Row) => ColumnValue;
}

/** A column written with the value of another column of the same row (`updated_at` as `created_at`). */
export interface CopyColumn {
  readonly name: string;
  readonly copyOf: string;
}

export type Column<Row> = ValueColumn<Row> | CopyColumn;

export interface BulkTable<Row> {
  readonly name: string;
  readonly columns: readonly Column<Row>[];
}

export function bulkTable<Row>(name: string, columns: readonly Column<Row>[]): BulkTable<Row> {
  return { name, columns };
}

function isCopy<Row>(column: Column<Row>): column is CopyColumn {
  return 'copyOf' in column;
}

/** The columns whose values travel with each batch (copies are filled in by the statement). */
function sentColumns<Row>(table: BulkTable<Row>): ValueColumn<Row>[] {
  return table.columns.filter((column): column is ValueColumn<Row> => !isCopy(column));
}

/**
 * How each type travels and is turned back into its column type. Timestamps travel as epoch milliseconds:
 * cheaper to print here and to parse there than ISO 8601 text. Arrays of arrays cannot be unnested row by
 * row, so `text[]` values travel as array literals in a text array.
 */
const TRANSPORT: Record<ColumnType, { readonly array: string; readonly select: (name: string) => string }> = {
  uuid: { array: 'uuid[]', select: (name) => name },
  text: { array: 'text[]', select: (name) => name },
  int: { array: 'int8[]', select: (name) => name },
  float: { array: 'float8[]', select: (name) => name },
  bool: { array: 'bool[]', select: (name) => name },
  timestamptz: { array: 'int8[]', select: (name) => `to_timestamp(${name} / 1000.0)` },
  jsonb: { array: 'jsonb[]', select: (name) => name },
  'text[]': { array: 'text[]', select: (name) => `${name}::text[]` },
};

/** The INSERT for one batch of `table`: every column as one array parameter. */
export function insertStatement<Row>(table: BulkTable<Row>): string {
  const sent = sentColumns(table);
  const selectOf = (column: Column<Row>): string => {
    if (!isCopy(column)) return TRANSPORT[column.type].select(`"${column.name}"`);
    const source = sent.find((candidate) => candidate.name === column.copyOf);
    if (source === undefined) throw new Error(`${table.name}.${column.name} copies unknown ${column.copyOf}`);
    return selectOf(source);
  };
  const quoted = (columns: readonly Column<Row>[]) => columns.map((column) => `"${column.name}"`).join(', ');
  return (
    `insert into "${table.name}" (${quoted(table.columns)}) ` +
    `select ${table.columns.map(selectOf).join(', ')} ` +
    `from unnest(${sent.map((column) => `?::${TRANSPORT[column.type].array}`).join(', ')}) as u(${quoted(sent)})`
  );
}

/** One array literal per sent column, for the rows of one batch. */
export function encodeBatch<Row>(table: BulkTable<Row>, rows: readonly Row[]): string[] {
  const elements = new Array<string>(rows.length);
  return sentColumns(table).map(({ type, value }) => {
    const encode = ELEMENT_ENCODERS[type];
    for (let i = 0; i < rows.length; i++) {
      const item = value(rows[i] as Row);
      elements[i] = item === null ? 'NULL' : encode(item);
    }
    return `{${elements.join(',')}}`;
  });
}

const ELEMENT_ENCODERS: Record<ColumnType, (value: Exclude<ColumnValue, null>) => string> = {
  uuid: (value) => value as string,
  int: (value) => String(Math.round(value as number)),
  float: String,
  bool: (value) => (value ? 't' : 'f'),
  timestamptz: (value) => String(Math.round(value as number)),
  text: (value) => quoteElement(value as string),
  jsonb: (value) => quoteElement(JSON.stringify(value)),
  'text[]': (value) => quoteElement(arrayLiteral(value as readonly string[])),
};

function arrayLiteral(values: readonly string[]): string {
  return `{${values.map(quoteElement).join(',')}}`;
}

const NEEDS_ESCAPE = /["\\]/;

/** An array element in double quotes, so commas, braces, spaces and the word NULL are taken literally. */
function quoteElement(value: string): string {
  return `"${NEEDS_ESCAPE.test(value) ? value.replace(/["\\]/g, '\\$&') : value}"`;
}

export interface InsertOptions {
  readonly batchSize: number;
  /** Called after each batch is written, with the number of rows in it. */
  readonly onBatch?: (rows: number) => void;
}

/**
 * Inserts every row, `batchSize` at a time. While one batch is being written, the next one is generated and
 * encoded, so the database and this process work at the same time. Returns the number of rows inserted.
 */
export async function insertRows<Row>(
  run: SqlRunner,
  table: BulkTable<Row>,
  rows: Iterable<Row>,
  options: InsertOptions,
): Promise<number> {
  const sql = insertStatement(table);
  let inFlight: Promise<void> = Promise.resolve();
  let batch: Row[] = [];
  let total = 0;
  const send = async (ready: Row[]) => {
    const bindings = encodeBatch(table, ready);
    await inFlight;
    inFlight = run(sql, bindings).then(() => options.onBatch?.(ready.length));
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length === options.batchSize) {
      total += batch.length;
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) {
    total += batch.length;
    await send(batch);
  }
  await inFlight;
  return total;
}
