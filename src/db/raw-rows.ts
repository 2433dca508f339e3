import type { EntityManager } from './orm.js';

/**
 * The rows of a plain statement (`?` placeholders, `values` bound in order), read where MikroORM's own reads
 * go: a read replica when `preferReadReplicas` is on, and inside `em`'s transaction when it has one. For reads
 * on a hot path that skip the query builder.
 */
export function readRows<R>(em: EntityManager, sql: string, values: readonly unknown[]): Promise<R[]> {
  const connection = em.getConnection(em.config.get('preferReadReplicas') ? 'read' : 'write');
  return connection.execute<R[]>(sql, [...values], 'all', em.getTransactionContext());
}
