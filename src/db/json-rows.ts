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

// Read-only pages (a list with its relations) are read as plain rows built by PostgreSQL as JSON, in one
// statement: no entity is created, tracked or snapshotted for data nobody will change. The SQL and the
// reading back both come from the entities' metadata, so a new column shows up here by itself.

/**
 * An entity as a plain row: its columns (lazy ones left out by the caller's type), and each relation it holds
 * as `{ id }`, the shape of an unloaded reference. A managed entity fits the same type.
 */
export type Row<T, Relations extends keyof T = never> = Omit<T, Relations> & {
  readonly [K in Relations]: { readonly id: string };
};

/** How the rows of one entity are written as JSON and read back. */
export interface JsonRowFormat<R> {
  /** `json_build_object('id', "alias"."id", …)` over the entity's columns, keyed by property name. */
  objectSql(alias: string): string;
  /** The row a parsed JSON object stands for (timestamps become Dates again). */
  read(json: Record<string, unknown>): R;
}

/**
 * The JSON form of `entity`'s rows: every column property that is loaded by default (lazy ones, such as
 * sealed credentials, are not), and every relation the row holds a key of, as `{ "id": … }`.
 */
export function jsonRowFormat<R>(em: EntityManager, entity: EntityName<object>): JsonRowFormat<R> {
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
  const platform = em.getPlatform();
  return {
    objectSql(alias) {
      const pairs = [
        ...scalars.map((prop) => `'${prop.name}', ${column(alias, prop)}`),
        ...references.map((prop) => `'${prop.name}', json_build_object('id', ${column(alias, prop)})`),
      ];
      return `json_build_object(${pairs.join(', ')})`;
    },
    read(json) {
      for (const name of timestamps) {
        const value = json[name];
        if (typeof value === 'string') json[name] = platform.parseDate(value);
      }
      // The object was built from the same metadata as R's entity (see objectSql), so it has R's shape.
      return json as R;
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
  format: JsonRowFormat<unknown>,
  property: EntityKey<T>,
  orderBy: QueryOrderMap<T>,
  outerAlias: string,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  const order = orderSql(meta, alias, orderBy);
  return (
    `(select coalesce(json_agg(${format.objectSql(alias)} order by ${order}), '[]'::json) ` +
    `from ${table(meta)} ${quote(alias)} where ${column(alias, meta.properties[property])} = ${quote(outerAlias)}."id")`
  );
}

/** Like `relatedRowsSql` for a relation with at most one row (a one-to-one): the row's JSON, or null. */
export function relatedRowSql<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  format: JsonRowFormat<unknown>,
  property: EntityKey<T>,
  outerAlias: string,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  return (
    `(select ${format.objectSql(alias)} from ${table(meta)} ${quote(alias)} ` +
    `where ${column(alias, meta.properties[property])} = ${quote(outerAlias)}."id")`
  );
}

/** The row `outerColumn` of `outerAlias` refers to, as JSON, or null (e.g. a server's tenant). */
export function referencedRowSql(
  em: EntityManager,
  entity: EntityName<object>,
  format: JsonRowFormat<unknown>,
  outerAlias: string,
  outerProperty: EntityProperty,
): string {
  const meta = em.getMetadata().get(entity);
  const alias = `${outerAlias}_${meta.tableName}`;
  return (
    `(select ${format.objectSql(alias)} from ${table(meta)} ${quote(alias)} ` +
    `where ${quote(alias)}."id" = ${column(outerAlias, outerProperty)})`
  );
}

function orderSql<T>(meta: EntityMetadata<T>, alias: string, orderBy: QueryOrderMap<T>): string {
  return Object.entries(orderBy)
    .map(([name, direction]) => {
      const descending = String(direction).toUpperCase() === QueryOrder.DESC;
      return `${column(alias, meta.properties[name as EntityKey<T>])} ${descending ? 'desc' : 'asc'}`;
    })
    .join(', ');
}

function column(alias: string, prop: EntityProperty): string {
  const [field] = prop.fieldNames;
  return `${quote(alias)}.${quote(field as string)}`;
}

function table(meta: EntityMetadata): string {
  return quote(meta.tableName);
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
