import { type EntityName, raw } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { EntityManager } from './orm.js';

/**
 * A DataLoader that counts rows of `entity` per value of the relation `property` (e.g. servers per tenant)
 * with one grouped query per batch.
 */
export function countLoader<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  property: string & keyof T,
): DataLoader<string, number> {
  return new DataLoader(async (ids) => {
    const rows: Record<string, string | number>[] = await em
      .createQueryBuilder(entity, 'e')
      .select([`e.${property}`, raw('count(*) as count')])
      .where({ [property]: { $in: [...ids] } })
      .groupBy(`e.${property}`)
      .execute('all', true);
    const counts = new Map(rows.map((row) => [String(row[property]), Number(row.count)]));
    return ids.map((id) => counts.get(id) ?? 0);
  });
}
