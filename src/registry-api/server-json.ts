// The shapes of the MCP Registry API v0.1, as its OpenAPI document names them
// (modelcontextprotocol/registry, docs/reference/api/openapi.yaml: ServerList, ServerResponse, ServerDetail).

/** The server.json schema version the answers follow. */
export const SERVER_SCHEMA_URL =
  'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';

/** Registry-managed metadata of the official registry, under `_meta` of a ServerResponse. */
export const OFFICIAL_META_KEY = 'io.modelcontextprotocol.registry/official';

/** Our own facts about a listed server (health, circuit, tools, last check), under `_meta`. */
export const GATEWAY_META_KEY = 'dev.mcp-registry-gateway/server';

export interface KeyValueInput {
  readonly name: string;
  readonly description?: string;
  readonly isRequired?: boolean;
  readonly isSecret?: boolean;
}

export interface RemoteTransport {
  readonly type: 'streamable-http' | 'sse';
  readonly url: string;
  readonly headers?: readonly KeyValueInput[];
}

export interface ServerDetail {
  readonly $schema: string;
  readonly name: string;
  readonly description: string;
  readonly title?: string;
  readonly version: string;
  readonly remotes: readonly RemoteTransport[];
}

export interface OfficialMeta {
  readonly status: 'active' | 'deprecated' | 'deleted';
  readonly publishedAt: string;
  readonly updatedAt: string;
  readonly isLatest: boolean;
}

export interface GatewayMeta {
  readonly kind: 'registered' | 'virtual';
  readonly id: string;
  readonly healthStatus?: string;
  readonly circuitState?: string;
  /** Tools of a registered server. */
  readonly toolCount?: number;
  /** Registered servers a virtual server draws its tools from. */
  readonly memberCount?: number;
  readonly lastHealthCheckAt?: string | null;
  /** False when the server never told its own version (declared, not discovered): `version` is then "unknown". */
  readonly versionDiscovered?: boolean;
}

export interface ServerResponse {
  readonly server: ServerDetail;
  readonly _meta: { readonly [OFFICIAL_META_KEY]: OfficialMeta; readonly [GATEWAY_META_KEY]: GatewayMeta };
}

export interface ServerList {
  readonly servers: readonly ServerResponse[];
  readonly metadata: { readonly nextCursor?: string; readonly count: number };
}

/** One DNS label from free text: lower case letters, digits and hyphens. */
export function namespaceLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return label === '' ? 'tenant' : label;
}

/** The part of a server.json name after the slash, from a server's own name. */
export function serverNamePart(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

/** The same as `serverNamePart`, in SQL, for looking a server up by its Registry API name. */
export const SERVER_NAME_PART_SQL = (column: string): string =>
  `regexp_replace(lower(${column}), '[^a-z0-9._-]+', '-', 'g')`;

/** A tenant's namespace: `<base>.<tenant label>`; virtual servers get their own `.virtual` below it. */
export function tenantNamespace(base: string, tenantName: string): string {
  return `${base}.${namespaceLabel(tenantName)}`;
}

export const VIRTUAL_NAMESPACE_SUFFIX = '.virtual';

/** Text cut to the schema's length limit (description, title: 1 to 100 characters). */
export function clipped(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
