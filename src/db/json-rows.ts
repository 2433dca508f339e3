import {
  type EntityKey,
  type EntityName,
  type EntityProperty,
  QueryOrder,
  type QueryOrderMap,
  ReferenceKind,
} from '@mikro-orm/core';
import type { EntityManager } from './orm.js';

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
  /** `"alias"."created_at" as "createdAt", …`: the entity's columns, named as its properties. */
  columnsSql(alias: string): string;
  /** The row that selected columns (or a JSON object of them) stand for: timestamps become Dates. */
  read(columns: Record<string, unknown>): R;
}

/**
 * The row form of `entity`: every column property that is loaded by default (lazy ones, such as sealed
 * credentials, are not), and every relation the row holds a key of, as `{ "id": … }`.
 */
export function rowFormat<R>(em: EntityManager, entity: EntityName<object>): RowFormat<R> {
  const meta = em.getMetadata().get(entity);
  const columns = meta.props.filter(
    (prop) => prop.persist !== false && !prop.lazy && prop.fieldNames?.length,
  );
  const scalars = columns.filter((prop) => prop.kind === ReferenceKind.SCALAR);
  const references = columns.filter(
    (prop) =>
      prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner),
  );
  const timestamps = scalars.filter((prop) => prop.runtimeType === 'Date').map((prop) => prop.name);
  return {
    columnsSql(alias) {
      return [
        ...scalars.map((prop) =>
          // Timestamps travel as epoch milliseconds: cheaper for PostgreSQL to write than text, and for
          // JavaScript to turn into a Date than text is to parse.
          timestamps.includes(prop.name)
            ? `(extract(epoch from ${column(alias, prop)}) * 1000)::float8 as ${quote(prop.name)}`
            : `${column(alias, prop)} as ${quote(prop.name)}`,
        ),
        ...references.map((prop) => `json_build_object('id', ${column(alias, prop)}) as ${quote(prop.name)}`),
      ].join(', ');
    },
    read(row) {
      for (const name of timestamps) {
        const value = row[name];
        if (typeof value === 'number') row[name] = new Date(value);
      }
      // The columns were selected from the same metadata as R's entity (see columnsSql), so they have R's shape.
      return row as R;
    },
  };
}

/**
 * A correlated subquery giving, for the row of `outerAlias`, the rows of `entity` whose relation `property`
 * points to it, as a JSON array in `orderBy` order (`[]` when there are none). The caller owns tenant scoping:
 * use it only for rows that belong to an outer row already inside the request's scope.
 */
export function relatedRowsSql<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  orderBy: QueryOrderMap<T>,
  outerAlias: string,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  // row_to_json over a subquery is markedly cheaper in PostgreSQL than json_build_object per row.
  return (
    `(select coalesce(json_agg(row order by ${orderSql(orderBy)}), '[]'::json) from ` +
    `(select ${format.columnsSql(alias)} from ${quote(meta.tableName)} ${quote(alias)} ` +
    `where ${column(alias, meta.properties[property])} = ${quote(outerAlias)}."id") row)`
  );
}

/** Like `relatedRowsSql` for a relation with at most one row (a one-to-one): the row's JSON, or null. */
export function relatedRowSql<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  format: RowFormat<unknown>,
  property: EntityKey<T>,
  outerAlias: string,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  return (
    `(select row_to_json(row) from (select ${format.columnsSql(alias)} from ${quote(meta.tableName)} ` +
    `${quote(alias)} where ${column(alias, meta.properties[property])} = ${quote(outerAlias)}."id") row)`
  );
}

/** The row `outerProperty` of `outerAlias` refers to, as JSON, or null (e.g. a server's tenant). */
export function referencedRowSql(
  em: EntityManager,
  entity: EntityName<object>,
  format: RowFormat<unknown>,
  outerAlias: string,
  outerProperty: EntityProperty,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  return (
    `(select row_to_json(row) from (select ${format.columnsSql(alias)} from ${quote(meta.tableName)} ` +
    `${quote(alias)} where ${quote(alias)}."id" = ${column(outerAlias, outerProperty)}) row)`
  );
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
