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

// Names are unique: a name that is already a valid name part (and short enough) is used as it is (our names are
// unique per tenant, namespaces unique: src/tenants/registry-namespace.ts); any other is made valid and gets the
// first 8 characters of the row's id, so two names that clean up the same ("Search Service", "search service")
// stay apart. The limits keep a full name within the schema's 200 characters.

const ID_SUFFIX_LENGTH = 8;
const SERVER_PART_MAX = 64;

/** The part of a server.json name after the slash: the server's own name when that is one. */
export function serverNamePart(server: { readonly id: string; readonly name: string }): string {
  if (server.name.length <= SERVER_PART_MAX && /^[a-zA-Z0-9._-]+$/.test(server.name)) return server.name;
  const cleaned = server.name
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .toLowerCase()
    .slice(0, SERVER_PART_MAX - ID_SUFFIX_LENGTH - 1);
  return `${cleaned}-${server.id.slice(0, ID_SUFFIX_LENGTH)}`;
}

/** The same as `serverNamePart`, in SQL, for looking a server up by its Registry API name. */
export const SERVER_NAME_PART_SQL = (alias: string): string =>
  `(case when length(${alias}.name) <= ${SERVER_PART_MAX} and ${alias}.name ~ '^[a-zA-Z0-9._-]+$' then ${alias}.name ` +
  `else left(lower(regexp_replace(${alias}.name, '[^a-zA-Z0-9._-]+', '-', 'g')), ${SERVER_PART_MAX - ID_SUFFIX_LENGTH - 1})` +
  ` || '-' || left(${alias}.id::text, ${ID_SUFFIX_LENGTH}) end)`;

/** Below a tenant's namespace (src/tenants/registry-namespace.ts): where its virtual servers are listed. */
export const VIRTUAL_NAMESPACE_SUFFIX = '.virtual';

/** Text cut to the schema's length limit (description, title: 1 to 100 characters). */
export function clipped(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
