import {
  type EntityKey,
  type EntityMetadata,
  type EntityName,
  type EntityProperty,
  QueryOrder,
  type QueryOrderMap,
  ReferenceKind,
} from '@mikro-orm/core';
import type { EntityManager } from './orm.js';
import { epochMillisSql, nullableDateFromEpochMillis } from './raw-values.js';

// Read-only pages (a list with its relations) are read as plain rows in one statement, relations aggregated as
// JSON by PostgreSQL: no entity is created, tracked or snapshotted for data nobody will change. The SQL and the
// reading back both come from the entities' metadata, so a new column shows up here by itself. A related row
// travels as a JSON array of its values in the format's column order, not as an object: PostgreSQL builds an
// array per row at about half the cost of a keyed row, and the text to send and parse is some 40 % shorter.

/**
 * An entity as a plain row: its columns (lazy ones left out by the caller's type), and each relation it holds
 * as `{ id }`, the shape of an unloaded reference. A managed entity fits the same type.
 */
export type Row<T, Relations extends keyof T = never> = Omit<T, Relations> & {
  readonly [K in Relations]: { readonly id: string };
};

/** How the rows of one entity are selected under their property names, and read back. */
export interface RowFormat<R> {
  readonly meta: EntityMetadata;
  /** The properties of the columns it selects. */
  readonly properties: ReadonlySet<string>;
  /** `"alias"."created_at" as "createdAt", …`: the entity's columns, named as its properties. */
  columnsSql(alias: string): string;
  /** `"alias"."id", …`: the same values unnamed, in the order `readValues` reads them. */
  valuesSql(alias: string): string;
  /**
   * The row that columns selected with `columnsSql` stand for: timestamps become Dates, keys `{ id }`. A new
   * object of the format's columns only: other columns of the result row are left out.
   */
  read(columns: Record<string, unknown>): R;
  /** The row that values selected with `valuesSql` (as a JSON array) stand for. */
  readValues(values: readonly unknown[]): R;
  /**
   * The same format over the columns among `properties` and the id only, or `null` when `properties` names
   * something that is not a column (a computed field may need any column): its rows lack every other column.
   */
  subset(properties: ReadonlySet<string>): RowFormat<Partial<R>> | null;
}

// Built once per entity's metadata (one per ORM, unchanged while it runs), not on every request.
const formats = new WeakMap<EntityMetadata, RowFormat<object>>();

/**
 * The row form of `entity`: every column property that is loaded by default (lazy ones, such as sealed
 * credentials, are not), and every relation the row holds a key of, as `{ "id": … }`.
 */
export function rowFormat<R>(em: EntityManager, entity: EntityName<object>): RowFormat<R> {
  const meta = em.getMetadata().get(entity);
  let format = formats.get(meta);
  if (format === undefined) {
    format = buildRowFormat(meta);
    formats.set(meta, format);
  }
  // Cached by metadata, which is R's entity: the caller names R for it.
  return format as RowFormat<R>;
}

/** One value a row format selects: the SQL of it over an alias, and the property it becomes. */
interface FormatValue {
  readonly name: string;
  sql(alias: string): string;
  /** The property from the value as selected; `null` when it is the value itself. */
  readonly convert: ((value: unknown) => unknown) | null;
}

// PostgreSQL's limit on a function's arguments, json_build_array's included.
const MAX_VALUES = 100;

function buildRowFormat(meta: EntityMetadata, only?: ReadonlySet<string>): RowFormat<object> {
  const values = meta.props
    .filter(
      (prop) =>
        prop.persist !== false &&
        !prop.lazy &&
        prop.fieldNames?.length &&
        (only === undefined || prop.primary || only.has(prop.name)),
    )
    .flatMap((prop) => formatValue(prop) ?? []);
  if (values.length > MAX_VALUES) {
    throw new Error(`${meta.className} has more than ${MAX_VALUES} columns to read as a row`);
  }
  const subsets = new Map<string, RowFormat<object> | null>();
  return {
    meta,
    properties: new Set(values.map((value) => value.name)),
    columnsSql(alias) {
      return values.map((value) => `${value.sql(alias)} as ${quote(value.name)}`).join(', ');
    },
    valuesSql(alias) {
      return values.map((value) => value.sql(alias)).join(', ');
    },
    // The columns were selected from this metadata, so the rows have the shape of its entity.
    read: rowBuilder<Record<string, unknown>>(values, (_, name) => name),
    readValues: rowBuilder<readonly unknown[]>(values, (index) => index),
    subset(properties) {
      const names = [...properties].filter((name) => name !== '__typename').sort();
      const key = names.join(',');
      let subset = subsets.get(key);
      if (subset === undefined) {
        const allColumns = names.every((name) => values.some((value) => value.name === name));
        subset = allColumns ? buildRowFormat(meta, new Set(names)) : null;
        subsets.set(key, subset);
      }
      return subset;
    },
  };
}

/**
 * Reads a row from `source` (a result row by column name, or a JSON array of values by index: `keyOf`) as one
 * object literal of the format's properties, compiled once per format. A list page reads thousands of rows; an
 * object literal gets its final shape at once, where property-by-property assignment grows each row through
 * every intermediate shape. The compiled text holds only property names from the metadata (JSON-quoted) and
 * indexes, never a value.
 */
function rowBuilder<S>(
  values: readonly FormatValue[],
  keyOf: (index: number, name: string) => string | number,
): (source: S) => Record<string, unknown> {
  type Convert = FormatValue['convert'];
  const converts: Convert[] = values.map((value) => value.convert);
  const properties = values.map(({ name, convert }, index) => {
    const read = `source[${JSON.stringify(keyOf(index, name))}]`;
    return `${JSON.stringify(name)}: ${convert === null ? read : `converts[${index}](${read})`}`;
  });
  const compile = new Function('converts', `return (source) => ({ ${properties.join(', ')} });`) as (
    converts: Convert[],
  ) => (source: S) => Record<string, unknown>;
  return compile(converts);
}

/** How a column property is selected and read back, or `null` for a relation the row holds no key of. */
function formatValue(prop: EntityProperty): FormatValue | null {
  const name = prop.name;
  if (prop.kind === ReferenceKind.SCALAR) {
    return prop.runtimeType === 'Date'
      ? { name, sql: (alias) => epochMillisSql(columnSql(alias, prop)), convert: nullableDateFromEpochMillis }
      : { name, sql: (alias) => columnSql(alias, prop), convert: null };
  }
  if (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)) {
    return { name, sql: (alias) => columnSql(alias, prop), convert: (id) => ({ id }) };
  }
  return null;
}

// Correlated subqueries for the relations of an outer row that is already inside the request's tenant scope
// (the caller owns scoping: these read what belongs to that row). Each related row is a JSON array of its
// format's values (`valuesSql`), read back with `readValues`.

/** The rows whose relation `property` points to the row of `outerAlias`, as a JSON array in `orderBy` order. */
export function relatedRowsSql<T>(
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  orderBy: QueryOrderMap<T>,
  outerAlias: string,
): string {
  const alias = relatedAlias(format, outerAlias);
  const values = `json_build_array(${format.valuesSql(alias)})`;
  const order = orderSql(format, orderBy, alias);
  return `(select coalesce(json_agg(${values} order by ${order}), '[]'::json) ${from(format, alias)} where ${pointingTo(format, property, alias, outerAlias)})`;
}

/** Like `relatedRowsSql` for a relation with at most one row (a one-to-one): the row's values, or null. */
export function relatedRowSql<T>(
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  outerAlias: string,
): string {
  const alias = relatedAlias(format, outerAlias);
  return `(select json_build_array(${format.valuesSql(alias)}) ${from(format, alias)} where ${pointingTo(format, property, alias, outerAlias)})`;
}

/** The row the relation `outerProperty` of `outerAlias` refers to, as its values, or null (a server's tenant). */
export function referencedRowSql(
  format: RowFormat<unknown>,
  outerAlias: string,
  outerProperty: EntityProperty,
): string {
  const alias = relatedAlias(format, outerAlias);
  const condition = `${quote(alias)}."id" = ${columnSql(outerAlias, outerProperty)}`;
  return `(select json_build_array(${format.valuesSql(alias)}) ${from(format, alias)} where ${condition})`;
}

/** The condition of the related rows (`alias`) whose relation `property` points to the row of `outerAlias`. */
function pointingTo<T>(
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  alias: string,
  outerAlias: string,
) {
  const prop = format.meta.properties[property as string] as EntityProperty;
  return `${columnSql(alias, prop)} = ${quote(outerAlias)}."id"`;
}

/** The related table's alias, apart from the outer row's. */
function relatedAlias(format: RowFormat<unknown>, outerAlias: string): string {
  return `${outerAlias}_${format.meta.tableName}`;
}

function from(format: RowFormat<unknown>, alias: string): string {
  return `from ${quote(format.meta.tableName)} ${quote(alias)}`;
}

/** ORDER BY over the columns of the properties `orderBy` names, selected or not. */
function orderSql<T>(format: RowFormat<unknown>, orderBy: QueryOrderMap<T>, alias: string): string {
  return Object.entries(orderBy)
    .map(([name, direction]) => {
      const descending = String(direction).toUpperCase().startsWith(QueryOrder.DESC);
      const prop = format.meta.properties[name] as EntityProperty;
      return `${columnSql(alias, prop)} ${descending ? 'desc' : 'asc'}`;
    })
    .join(', ');
}

/** `"alias"."column"`: the column of a (single-column) property over a table's alias, as SQL. */
export function columnSql(alias: string, prop: EntityProperty): string {
  const [field] = prop.fieldNames;
  return `${quote(alias)}.${quote(field as string)}`;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
