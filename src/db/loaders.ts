import {
  type EntityClass,
  type EntityName,
  type FilterQuery,
  type Primary,
  type QueryOrderMap,
  Reference,
  raw,
} from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { EntityManager } from './orm.js';

// Request-scoped loaders over a foreign key: each batch of keys costs one SQL statement.

/**
 * Counts rows of `entity` per value of the relation `property` (e.g. servers per tenant), among the rows that
 * match `where` (e.g. the servers the viewer may see).
 */
export function countLoader<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  property: string & keyof T,
  where: FilterQuery<T> = {},
): DataLoader<string, number> {
  return new DataLoader(async (ids) => {
    const qb = em
      .createQueryBuilder(entity, 'e')
      .select([`e.${property}`, raw('count(*) as count')])
      .where({ $and: [{ [property]: { $in: [...ids] } } as FilterQuery<T>, where] })
      .groupBy(`e.${property}`);
    // Counts only what the request may see, as every `find` does (query builders take filters explicitly).
    await qb.applyFilters();
    const rows: Record<string, string | number>[] = await qb.execute('all', true);
    const counts = new Map(rows.map((row) => [String(row[property]), Number(row.count)]));
    return ids.map((id) => counts.get(id) ?? 0);
  });
}

/** The rows of `entity` whose relation `property` points to each key (e.g. the tools of each server). */
export function manyLoader<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  property: string & keyof T,
  orderBy: QueryOrderMap<T>,
): DataLoader<string, T[]> {
  return new DataLoader(async (ids) => {
    const rows = await em.find(entity, { [property]: { $in: [...ids] } } as FilterQuery<T>, { orderBy });
    const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
    for (const row of rows) groups.get(foreignKey(row, property))?.push(row);
    return ids.map((id) => groups.get(id) ?? []);
  });
}

/** The row of `entity` whose unique relation `property` points to each key (e.g. a server's breaker). */
export function oneLoader<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  property: string & keyof T,
): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await em.find(entity, { [property]: { $in: [...ids] } } as FilterQuery<T>);
    const byKey = new Map(rows.map((row) => [foreignKey(row, property), row]));
    return ids.map((id) => byKey.get(id) ?? null);
  });
}

/** The id a relation property holds, without loading the related entity. */
function foreignKey<T extends object>(row: T, property: keyof T): string {
  const related = row[property] as { id?: unknown } | string;
  return typeof related === 'string' ? related : String(related?.id);
}

/**
 * Rows by id: from the request's identity map when already loaded, otherwise batched through MikroORM's
 * reference dataloader (one statement for the ids a page asks for); `null` outside the request's scope.
 */
export function byIdLoader<T extends { id: string }>(
  em: EntityManager,
  entity: EntityClass<T>,
): DataLoader<string, T | null> {
  return new DataLoader((ids) => Promise.all(ids.map((id) => loadById(em, entity, id))));
}

/**
 * One row by id through MikroORM's per-request reference dataloader (the rows a page asks for cost one
 * statement between them), or `null` when no such row is visible: missing, or outside the request's tenant
 * scope. (`Reference.load()` alone hands back an uninitialised reference for those.)
 */
export async function loadById<T extends { id: string }>(
  em: EntityManager,
  entity: EntityClass<T>,
  id: string,
): Promise<T | null> {
  const entityOrReference: T = em.getReference(entity, id as Primary<T>);
  const reference = Reference.create(entityOrReference);
  await reference.load();
  return reference.isInitialized() ? entityOrReference : null;
}

/**
 * Rows a list page read with only the columns the request selects of them (json-rows `subset`), by the key
 * of the row they belong to. A field resolver takes them when they hold every field it is asked for, and
 * loads whole rows otherwise: they never reach a loader that other readers share.
 */
export class ListedRows<R> {
  private readonly byKey = new Map<string, { columns: ReadonlySet<string>; rows: Partial<R>[] }>();

  set(key: string, columns: ReadonlySet<string>, rows: Partial<R>[]): void {
    this.byKey.set(key, { columns, rows });
  }

  /** The rows listed for `key`, if they hold every one of `fields` (`__typename` needs no column). */
  get(key: string, fields: ReadonlySet<string>): R[] | undefined {
    const listed = this.byKey.get(key);
    if (listed === undefined) return undefined;
    for (const field of fields) {
      if (field !== '__typename' && !listed.columns.has(field)) return undefined;
    }
    // Every field the caller reads is among the columns the rows hold; it reads no other.
    return listed.rows as R[];
  }
}
