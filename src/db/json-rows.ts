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
import { dateFromEpochMillis, epochMillisSql } from './raw-values.js';

// Read-only pages (a list with its relations) are read as plain rows in one statement, relations aggregated as
// JSON by PostgreSQL: no entity is created, tracked or snapshotted for data nobody will change. The SQL and the
// reading back both come from the entities' metadata, so a new column shows up here by itself.

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
  /** The row that selected columns (or a JSON object of them) stand for: timestamps become Dates. */
  read(columns: Record<string, unknown>): R;
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

function buildRowFormat(meta: EntityMetadata, only?: ReadonlySet<string>): RowFormat<object> {
  const columns = meta.props.filter(
    (prop) =>
      prop.persist !== false &&
      !prop.lazy &&
      prop.fieldNames?.length &&
      (only === undefined || prop.primary || only.has(prop.name)),
  );
  const scalars = columns.filter((prop) => prop.kind === ReferenceKind.SCALAR);
  const references = columns.filter(
    (prop) =>
      prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner),
  );
  const timestamps = scalars.filter((prop) => prop.runtimeType === 'Date').map((prop) => prop.name);
  const subsets = new Map<string, RowFormat<object> | null>();
  return {
    meta,
    properties: new Set(columns.map((prop) => prop.name)),
    columnsSql(alias) {
      return [
        ...scalars.map((prop) =>
          timestamps.includes(prop.name)
            ? `${epochMillisSql(column(alias, prop))} as ${quote(prop.name)}`
            : `${column(alias, prop)} as ${quote(prop.name)}`,
        ),
        ...references.map((prop) => `json_build_object('id', ${column(alias, prop)}) as ${quote(prop.name)}`),
      ].join(', ');
    },
    read(row) {
      for (const name of timestamps) {
        const value = row[name];
        if (value !== null && value !== undefined) row[name] = dateFromEpochMillis(value);
      }
      // The columns were selected from this metadata, so the row has the shape of its entity.
      return row;
    },
    subset(properties) {
      const names = [...properties].filter((name) => name !== '__typename').sort();
      const key = names.join(',');
      let subset = subsets.get(key);
      if (subset === undefined) {
        const allColumns = names.every((name) => columns.some((prop) => prop.name === name));
        subset = allColumns ? buildRowFormat(meta, new Set(names)) : null;
        subsets.set(key, subset);
      }
      return subset;
    },
  };
}

// Correlated subqueries for the relations of an outer row that is already inside the request's tenant scope
// (the caller owns scoping: these read what belongs to that row). Each selects the related rows as `row`
// through `rowsOf`; row_to_json over a subquery is markedly cheaper in PostgreSQL than json_build_object per row.

/** The rows whose relation `property` points to the row of `outerAlias`, as a JSON array in `orderBy` order. */
export function relatedRowsSql<T>(
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  orderBy: QueryOrderMap<T>,
  outerAlias: string,
): string {
  const rows = rowsOf(format, outerAlias, pointingTo(format, property, outerAlias));
  return `(select coalesce(json_agg(row order by ${orderSql(orderBy)}), '[]'::json) from ${rows})`;
}

/** Like `relatedRowsSql` for a relation with at most one row (a one-to-one): the row's JSON, or null. */
export function relatedRowSql<T>(
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  outerAlias: string,
): string {
  const rows = rowsOf(format, outerAlias, pointingTo(format, property, outerAlias));
  return `(select row_to_json(row) from ${rows})`;
}

/** The condition of the related rows whose relation `property` points to the row of `outerAlias`. */
function pointingTo<T>(format: RowFormat<unknown>, property: EntityKey<T>, outerAlias: string) {
  const prop = format.meta.properties[property as string] as EntityProperty;
  return (alias: string) => `${column(alias, prop)} = ${quote(outerAlias)}."id"`;
}

/** The row the relation `outerProperty` of `outerAlias` refers to, as JSON, or null (e.g. a server's tenant). */
export function referencedRowSql(
  format: RowFormat<unknown>,
  outerAlias: string,
  outerProperty: EntityProperty,
): string {
  const rows = rowsOf(
    format,
    outerAlias,
    (alias) => `${quote(alias)}."id" = ${column(outerAlias, outerProperty)}`,
  );
  return `(select row_to_json(row) from ${rows})`;
}

/** `(select <columns> from <table> <alias> where <condition>) row`, aliased apart from the outer row. */
function rowsOf(
  format: RowFormat<unknown>,
  outerAlias: string,
  condition: (alias: string) => string,
): string {
  const { tableName } = format.meta;
  const alias = `${outerAlias}_${tableName}`;
  return `(select ${format.columnsSql(alias)} from ${quote(tableName)} ${quote(alias)} where ${condition(alias)}) row`;
}

/** ORDER BY over the property-named columns of the subquery `row`. */
function orderSql<T>(orderBy: QueryOrderMap<T>): string {
  return Object.entries(orderBy)
    .map(([name, direction]) => {
      const descending = String(direction).toUpperCase().startsWith(QueryOrder.DESC);
      return `row.${quote(name)} ${descending ? 'desc' : 'asc'}`;
    })
    .join(', ');
}

function column(alias: string, prop: EntityProperty): string {
  const [field] = prop.fieldNames;
  return `${quote(alias)}.${quote(field as string)}`;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
