import { type Keyring, SealedValueError } from '../crypto/keyring.js';
import { parsedJson } from '../db/raw-values.js';
import { openConnectionHeaders } from '../registry/connection-headers.js';
import type { TransportType } from '../registry/registry.enums.js';
import type { ProbeTarget } from './probe.js';

/** What background work (probes, refreshes, watches) claims of a server row to contact it. */
export interface ClaimedRow {
  id: string;
  endpoint_url: string;
  transport_type: TransportType;
  /** Sealed (see connection-headers.ts); JSONB, parsed or as text depending on the driver. */
  connection_headers: unknown;
}

/** The columns of `mcp_servers` (aliased `alias`) a ClaimedRow holds, for a `returning` or `select` list. */
export const claimedColumns = (alias: string): string =>
  ['id', 'endpoint_url', 'transport_type', 'connection_headers']
    .map((column) => `${alias}.${column}`)
    .join(', ');

/** A claimed server: ready to contact, or not to be contacted because its credentials cannot be opened. */
export type Claimed =
  | { readonly serverId: string; readonly target: ProbeTarget }
  | { readonly serverId: string; readonly unreadable: SealedValueError };

/** Opens the stored headers of a claimed row; a server whose headers do not open is never contacted. */
export function claimedServer(row: ClaimedRow, keyring: Keyring): Claimed {
  try {
    const headers = openConnectionHeaders(keyring, row.id, parsedJson(row.connection_headers));
    return {
      serverId: row.id,
      target: {
        serverId: row.id,
        endpointUrl: row.endpoint_url,
        transportType: row.transport_type,
        headers,
      },
    };
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    return { serverId: row.id, unreadable: error };
  }
}
