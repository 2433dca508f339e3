import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPglite, type DatabaseTarget } from '../../src/db/orm.js';
import { POSTGRES_ADMIN_URL } from './services.js';

/** Every table the migrations create. */
export const APPLICATION_TABLES = [
  'agent_sessions',
  'api_keys',
  'audit_logs',
  'capability_watch_leases',
  'circuit_breakers',
  'health_checks',
  'imported_servers',
  'mcp_servers',
  'registry_sources',
  'request_logs',
  'routing_rule_targets',
  'routing_rules',
  'search_vocabulary',
  'server_prompts',
  'server_resources',
  'server_tools',
  'server_versions',
  'tenants',
  'users',
  'virtual_server_members',
  'virtual_servers',
];

export interface TestDatabase {
  readonly target: DatabaseTarget;
  readonly kind: 'postgres' | 'pglite';
  /** Drops the database (PostgreSQL) or closes it (PGlite). */
  drop(): Promise<void>;
}

/** The database this vitest project runs database tests on (vitest.config.ts sets TEST_DATABASE per project). */
export const projectDatabase = (): 'postgres' | 'pglite' =>
  process.env.TEST_DATABASE === 'pglite' ? 'pglite' : 'postgres';

/**
 * Whether tests that need PostgreSQL itself (a fleet on one database, a second process) run here: PostgreSQL
 * answers and this is the PostgreSQL project (the PGlite project runs the same files without them).
 */
export const postgresAvailable = (): boolean =>
  projectDatabase() === 'postgres' && inject('services').postgres === null;
export const redisAvailable = (): boolean => inject('services').redis === null;

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh, empty PostgreSQL database that only this test file uses. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `mcp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    target: { kind: 'postgres', url: url.toString() },
    drop: () => adminQuery(`drop database if exists "${name}" with (force)`),
  };
}

/** A fresh in-memory PGlite database. */
export async function createPgliteDatabase(): Promise<TestDatabase> {
  const pglite = createPglite();
  await pglite.waitReady;
  return { kind: 'pglite', target: { kind: 'pglite-instance', pglite }, drop: () => pglite.close() };
}

/** The project's database: PostgreSQL (when it is reachable, PGlite otherwise; see global-setup) or PGlite. */
export function createTestDatabase(): Promise<TestDatabase> {
  return postgresAvailable() ? createPostgresDatabase() : createPgliteDatabase();
}
