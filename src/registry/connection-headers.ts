import type { QueryResult } from '@mikro-orm/core';
import { isSealedValue, type Keyring, type SealedValue, SealedValueError } from '../crypto/keyring.js';
import type { EntityManager, Orm } from '../db/orm.js';
import { parsedJson } from '../db/raw-values.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import type { MCPServer } from './mcp-server.entity.js';

/**
 * Whether an endpoint change sends requests to another host (another origin, or to or from a command line):
 * stored headers were given for one host and never follow a server elsewhere.
 */
export function movesElsewhere(current: string, next: string | undefined): boolean {
  if (next === undefined) return false;
  return originOf(current) === null || originOf(current) !== originOf(next);
}

function originOf(endpoint: string): string | null {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The one way connection headers (credentials) are stored and read: sealed with the keyring for their own
 * server, so a sealed value copied onto another server's row does not open.
 */
const contextOf = (serverId: string) => `mcp_servers.connection_headers:${serverId}`;

export function sealConnectionHeaders(
  keyring: Keyring,
  serverId: string,
  headers: Record<string, string> | null,
): SealedValue | null {
  return headers === null ? null : keyring.seal(JSON.stringify(headers), contextOf(serverId));
}

/**
 * The headers stored for a server. Throws a SealedValueError when they cannot be opened (plaintext, an
 * unknown key, altered or moved): the caller must then not contact the server at all.
 */
export function openConnectionHeaders(
  keyring: Keyring,
  serverId: string,
  stored: unknown,
): Record<string, string> | null {
  if (stored == null) return null;
  const plaintext = keyring.open(stored, contextOf(serverId));
  let headers: unknown;
  try {
    headers = JSON.parse(plaintext);
  } catch {
    headers = undefined;
  }
  if (!isHeaderMap(headers)) {
    throw new SealedValueError('rejected', null, 'the sealed value is not a map of header names to values');
  }
  return headers;
}

function isHeaderMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((headerValue) => typeof headerValue === 'string')
  );
}

/** Says why a server's stored headers cannot be used; names the key, never a value. */
export function unreadableHeadersMessage(error: SealedValueError): string {
  return `the stored connection headers cannot be opened (${error.message})`;
}

/**
 * Loads and opens a server's headers for a request that contacts it. Headers that cannot be opened are a
 * GraphQL error (CREDENTIALS_UNAVAILABLE) that says how to recover; the server is not contacted.
 */
export async function loadConnectionHeaders(
  em: EntityManager,
  keyring: Keyring,
  server: MCPServer,
): Promise<Record<string, string> | null> {
  await em.populate(server, ['sealedHeaders']);
  return openStoredConnectionHeaders(keyring, server.id, server.sealedHeaders);
}

/**
 * Opens headers already read with their server (`stored` as the column holds them), for a request that
 * contacts it; fails like `loadConnectionHeaders`.
 */
export function openStoredConnectionHeaders(
  keyring: Keyring,
  serverId: string,
  stored: unknown,
): Record<string, string> | null {
  try {
    return openConnectionHeaders(keyring, serverId, stored);
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    throw new ApiError(
      ErrorCode.CREDENTIALS_UNAVAILABLE,
      `Server ${serverId} was not contacted: ${unreadableHeadersMessage(error)}. ` +
        'Set its headers again with updateServer, or start the registry with the key they were sealed with.',
      { reason: error.reason.toUpperCase(), keyId: error.keyId },
    );
  }
}

export interface SealingReport {
  /** Plaintext headers (stored before encryption at rest) now sealed. */
  readonly sealed: number;
  /** Headers sealed with an older key, now sealed with the current one. */
  readonly resealed: number;
  /** Headers no key opens (left as they are, so the right key can still open them). */
  readonly unreadable: number;
}

interface StoredHeadersRow {
  id: string;
  connection_headers: unknown;
}

const BATCH_SIZE = 200;

/**
 * Start-up step, once the schema is current: seals plaintext headers left from before encryption at rest
 * and seals again, with the current key, those sealed with an older one, in batches. A row changed meanwhile
 * by someone else is left to them. Values no key opens are logged (server and key id) and kept. With
 * migrations pending (MIGRATE_ON_START=false), nothing is done: the next start on a current schema does it.
 */
export async function sealStoredConnectionHeaders(
  orm: Orm,
  keyring: Keyring,
  log: Logger,
): Promise<SealingReport | null> {
  const pending = await orm.getMigrator().getPendingMigrations();
  if (pending.length > 0) {
    log.warn({ pending: pending.length }, 'migrations pending: stored connection headers not checked');
    return null;
  }
  const em = orm.em.fork();
  const counts = { sealed: 0, resealed: 0, unreadable: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows: StoredHeadersRow[] = await em.execute(
      `select id, connection_headers from mcp_servers
       where connection_headers is not null and id > ?
         and (jsonb_typeof(connection_headers -> 'v') is distinct from 'number'
              or connection_headers ->> 'kid' is distinct from ?)
       order by id
       limit ?`,
      [after, keyring.currentKeyId, BATCH_SIZE],
    );
    for (const row of rows) {
      const stored = parsedJson(row.connection_headers);
      const wasSealed = isSealedValue(stored);
      let headers: Record<string, string> | null;
      try {
        headers = wasSealed ? openConnectionHeaders(keyring, row.id, stored) : plaintextHeaders(stored);
      } catch (error) {
        if (!(error instanceof SealedValueError)) throw error;
        counts.unreadable += 1;
        log.warn(
          { serverId: row.id, reason: error.reason, keyId: error.keyId },
          'stored connection headers cannot be opened: left as they are',
        );
        continue;
      }
      const sealed = sealConnectionHeaders(keyring, row.id, headers);
      const { affectedRows } = await em.execute<QueryResult>(
        `update mcp_servers set connection_headers = cast(? as jsonb)
         where id = ? and connection_headers = cast(? as jsonb)`,
        [sealed === null ? null : JSON.stringify(sealed), row.id, JSON.stringify(stored)],
        'run',
      );
      counts[wasSealed ? 'resealed' : 'sealed'] += affectedRows;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH_SIZE) break;
    after = last.id;
  }
  if (counts.sealed + counts.resealed + counts.unreadable > 0) {
    log.info({ ...counts, keyId: keyring.currentKeyId }, 'stored connection headers sealed');
  }
  return counts;
}

function plaintextHeaders(value: unknown): Record<string, string> | null {
  if (value === null) return null;
  if (!isHeaderMap(value)) {
    throw new SealedValueError('not_sealed', null, 'the stored value is neither sealed nor a header map');
  }
  return value;
}
