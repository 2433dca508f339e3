import type { Orm } from './orm.js';

/** What a tarn pool (knex's, under MikroORM's PostgreSQL driver) tells about its connections. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function isTarnPool(value: unknown): value is TarnPool {
  return (
    typeof value === 'object' &&
    value !== null &&
    'numUsed' in value &&
    typeof value.numUsed === 'function' &&
    'numFree' in value &&
    'numPendingAcquires' in value
  );
}

/**
 * The connection pool's state (PGlite's driver keeps a pool of one), or null for a driver without one.
 * knex keeps the pool on its client without a public type, so it is recognised by shape.
 */
export function databasePoolStats(orm: Orm): { used: number; free: number; pending: number } | null {
  const client: unknown = orm.em.getConnection().getKnex().client;
  const pool = typeof client === 'object' && client !== null && 'pool' in client ? client.pool : undefined;
  if (!isTarnPool(pool)) return null;
  return { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() };
}
