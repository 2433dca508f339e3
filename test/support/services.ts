import { Redis } from 'ioredis';
import pg from 'pg';

/** The PostgreSQL server the tests create their databases on (never a database of its own). */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ServiceAvailability {
  readonly postgres: string | null;
  readonly redis: string | null;
}

/** Probes each service; returns why it is unusable, or null when it answers. */
export async function probeServices(): Promise<{ postgres: string | null; redis: string | null }> {
  const [postgres, redis] = await Promise.all([probePostgres(), probeRedis()]);
  return { postgres, redis };
}

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return `PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable (${error instanceof Error ? error.message : error})`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(): Promise<string | null> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at ${REDIS_URL} is unreachable (${error instanceof Error ? error.message : error})`;
  } finally {
    client.disconnect();
  }
}
