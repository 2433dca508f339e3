import DataLoader from 'dataloader';
import { type Keyring, SealedValueError } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import { parsedJson } from '../db/raw-values.js';
import { openConnectionHeaders } from '../registry/connection-headers.js';
import type { UpstreamStatus } from './imported-server.entity.js';
import type { ServerUpstream } from './registry-import.types.js';

/** An imported server's upstream, and its stored headers (sealed) to tell which required ones are set. */
export interface ServerImport {
  readonly serverId: string;
  readonly upstream: ServerUpstream;
  readonly storedHeaders: unknown;
}

export interface RegistryImportLoaders {
  /** By server id; null for servers that were not imported. */
  readonly importByServer: DataLoader<string, ServerImport | null>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends RegistryImportLoaders {}
}

interface ImportRow {
  server_id: string;
  registry_url: string;
  upstream_name: string;
  upstream_version: string;
  status: UpstreamStatus;
  status_message: string | null;
  upstream_updated_at: Date | string | null;
  required_headers: string[];
  connection_headers: unknown;
}

/**
 * One statement per batch of servers (already visible to the request: their ids come from its own reads). The
 * stored headers are opened only to learn their names, which say whether a required one is set.
 */
export function createRegistryImportLoaders(em: EntityManager): RegistryImportLoaders {
  return {
    importByServer: new DataLoader(async (ids) => {
      const rows: ImportRow[] = await em.execute(
        `select i.server_id, s.url as registry_url, i.upstream_name, i.upstream_version, i.status,
                i.status_message, i.upstream_updated_at, i.required_headers, m.connection_headers
         from imported_servers i
         join registry_sources s on s.id = i.source_id
         join mcp_servers m on m.id = i.server_id
         where i.server_id in (?)`,
        [[...ids]],
      );
      const byServer = new Map(rows.map((row) => [row.server_id, serverImport(row)]));
      return ids.map((id) => byServer.get(id) ?? null);
    }),
  };
}

function serverImport(row: ImportRow): ServerImport {
  return {
    serverId: row.server_id,
    storedHeaders: parsedJson(row.connection_headers),
    upstream: {
      registryUrl: row.registry_url,
      name: row.upstream_name,
      version: row.upstream_version,
      status: row.status,
      statusMessage: row.status_message,
      updatedAt: row.upstream_updated_at === null ? null : new Date(row.upstream_updated_at),
      requiredHeaders: parsedArray(row.required_headers),
    },
  };
}

/**
 * The required headers an imported server has no value for ("needs credentials"). Stored headers that cannot be
 * opened count as absent: the server is not contacted with them either.
 */
export function missingCredentials(found: ServerImport, keyring: Keyring): string[] {
  let stored: Record<string, string> | null;
  try {
    stored = openConnectionHeaders(keyring, found.serverId, found.storedHeaders);
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    stored = null;
  }
  // Header names are case-insensitive (RFC 9110).
  const have = new Set(Object.keys(stored ?? {}).map((name) => name.toLowerCase()));
  return found.upstream.requiredHeaders.filter((name) => !have.has(name.toLowerCase()));
}

/** A text[] column as the driver gives it: an array (pg), or its literal `{a,b}` (some PGlite versions). */
function parsedArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value.startsWith('{') && value.endsWith('}')) {
    const inner = value.slice(1, -1);
    return inner === '' ? [] : inner.split(',').map((item) => item.replace(/^"|"$/g, ''));
  }
  return [];
}
