import { ApiError } from '../graphql/errors.js';
import { TransportType } from '../registry/registry.enums.js';
import { isHeaderName, requireEndpoint } from '../registry/server-input.validation.js';
import { OFFICIAL_META_KEY } from '../registry-api/server-json.js';
import { UpstreamStatus } from './imported-server.entity.js';

/** What an upstream entry asks of the server it describes, as the import stores it. */
export interface UpstreamServer {
  readonly kind: 'server';
  readonly name: string;
  readonly version: string;
  readonly status: UpstreamStatus;
  readonly statusMessage: string | null;
  readonly updatedAt: Date | null;
  readonly description: string | null;
  readonly remoteUrl: string;
  readonly remoteType: TransportType;
  /** Names of the headers the remote requires (sorted, unique). */
  readonly requiredHeaders: string[];
}

/** An entry that is not imported, and why (told to the caller under `skipped`). */
export interface SkippedEntry {
  readonly kind: 'skip';
  readonly name: string;
  readonly reason: string;
  /** Its status upstream, when it gave one: a deleted entry is marked if it was imported before. */
  readonly status: UpstreamStatus | null;
  readonly updatedAt: Date | null;
}

/** An older version of a server (`isLatest: false`): not an entry of its own. */
export interface OlderVersion {
  readonly kind: 'older';
  readonly name: string;
}

export type UpstreamEntry = UpstreamServer | SkippedEntry | OlderVersion;

const NAME = /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/;
const VARIABLE = /\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g;
const STATUSES: Record<string, UpstreamStatus> = {
  active: UpstreamStatus.ACTIVE,
  deprecated: UpstreamStatus.DEPRECATED,
  deleted: UpstreamStatus.DELETED,
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value : null;

/**
 * Reads one ServerResponse of an upstream listing (the OpenAPI document's shape: `{ server, _meta }`). It is
 * imported through its first `streamable-http` remote, else its first `sse` one. A remote URL with
 * `{variables}` takes each variable's `value`, else its `default`; one without either is skipped (the import
 * has nobody to ask). Entries with packages only are skipped: the gateway connects to servers, it does not
 * install them.
 */
export function readUpstreamEntry(raw: unknown, index: number): UpstreamEntry {
  const server = isObject(raw) ? raw.server : undefined;
  const rawName = isObject(server) ? server.name : undefined;
  const name = typeof rawName === 'string' && rawName !== '' ? rawName.slice(0, 255) : `(entry ${index + 1})`;
  const skip = (reason: string, status: UpstreamStatus | null = null, updatedAt: Date | null = null) =>
    ({ kind: 'skip', name, reason, status, updatedAt }) satisfies SkippedEntry;
  if (!isObject(raw) || !isObject(server)) return skip('not a ServerResponse: no "server" object');
  if (typeof rawName !== 'string' || rawName.length > 200 || !NAME.test(rawName)) {
    return skip('"server.name" is not a server.json name (namespace/name)');
  }
  const meta =
    isObject(raw._meta) && isObject(raw._meta[OFFICIAL_META_KEY]) ? raw._meta[OFFICIAL_META_KEY] : {};
  if (meta.isLatest === false) return { kind: 'older', name };
  const status = typeof meta.status === 'string' ? (STATUSES[meta.status] ?? null) : UpstreamStatus.ACTIVE;
  if (status === null) return skip(`unknown status "${String(meta.status)}"`);
  const updatedAt = dateOf(meta.updatedAt);
  const version = text(server.version);
  if (version === null) return skip('"server.version" is missing', status, updatedAt);

  const remotes = Array.isArray(server.remotes) ? server.remotes.filter(isObject) : [];
  const remote =
    remotes.find((candidate) => candidate.type === 'streamable-http') ??
    remotes.find((candidate) => candidate.type === 'sse');
  if (remote === undefined) {
    const packages = Array.isArray(server.packages) ? server.packages.filter(isObject) : [];
    if (packages.length > 0) {
      const kinds = [...new Set(packages.map((item) => String(item.registryType ?? 'unknown')))].join(', ');
      return skip(
        `packages only (${kinds}), no streamable-http or sse remote to connect to`,
        status,
        updatedAt,
      );
    }
    return skip('no streamable-http or sse remote', status, updatedAt);
  }
  const remoteType = remote.type === 'sse' ? TransportType.SSE : TransportType.STREAMABLE_HTTP;
  const resolved = resolveRemoteUrl(remote);
  if ('reason' in resolved) return skip(resolved.reason, status, updatedAt);
  let remoteUrl: string;
  try {
    remoteUrl = requireEndpoint(resolved.url, remoteType);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return skip(`the remote URL is not usable: ${error.message}`, status, updatedAt);
  }
  const headers = Array.isArray(remote.headers) ? remote.headers.filter(isObject) : [];
  const requiredHeaders = [
    ...new Set(
      headers
        .filter((header) => header.isRequired === true && typeof header.name === 'string')
        .map((header) => String(header.name))
        .filter(isHeaderName),
    ),
  ].sort();
  return {
    kind: 'server',
    name,
    version: version.slice(0, 255),
    status,
    statusMessage: text(meta.statusMessage)?.slice(0, 500) ?? null,
    updatedAt,
    description: text(server.description) ?? text(server.title),
    remoteUrl,
    remoteType,
    requiredHeaders,
  };
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The remote's URL with its `{variables}` replaced by their fixed value or default. */
function resolveRemoteUrl(remote: Json): { url: string } | { reason: string } {
  const template = text(remote.url);
  if (template === null) return { reason: 'the remote has no URL' };
  const variables = isObject(remote.variables) ? remote.variables : {};
  const missing: string[] = [];
  const url = template.replace(VARIABLE, (whole, variable: string) => {
    const spec = variables[variable];
    const value = isObject(spec) ? (text(spec.value) ?? text(spec.default)) : null;
    if (value === null) {
      missing.push(variable);
      return whole;
    }
    return value;
  });
  if (missing.length > 0) {
    return {
      reason: `the remote URL needs a value for ${missing.map((name) => `{${name}}`).join(', ')} and gives no default`,
    };
  }
  return { url };
}
