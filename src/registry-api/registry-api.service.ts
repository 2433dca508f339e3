import { type Dictionary, type FilterQuery, raw } from '@mikro-orm/core';
import { type Keyring, SealedValueError } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import { SERVICE_VERSION } from '../observability/spans.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { openConnectionHeaders } from '../registry/connection-headers.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import { ServerVersion } from '../registry/server-version.entity.js';
import { containsTextSql, requireSearchLength } from '../registry/text-search.js';
import { registryNamespaceOf } from '../tenants/registry-namespace.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { virtualServerEndpointUrl } from '../virtual/virtual-endpoint.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';
import { VirtualServerMember } from '../virtual/virtual-server-member.entity.js';
import {
  clipped,
  GATEWAY_META_KEY,
  OFFICIAL_META_KEY,
  type RemoteTransport,
  SERVER_NAME_PART_SQL,
  SERVER_SCHEMA_URL,
  type ServerList,
  type ServerResponse,
  serverNamePart,
  VIRTUAL_NAMESPACE_SUFFIX,
} from './server-json.js';

/** Only servers reachable over HTTP are remotes a client can use. */
const REMOTE_TRANSPORTS = [TransportType.STREAMABLE_HTTP, TransportType.SSE];

/** A server whose own serverInfo never gave a version (declared, not discovered). */
export const UNKNOWN_VERSION = 'unknown';

export interface ListQuery {
  readonly limit: number;
  readonly after: PageCursor | null;
  readonly search: string | null;
  readonly updatedSince: Date | null;
  /** `null` and `latest` list every server's current version; anything else an exact version. */
  readonly version: string | null;
  readonly includeDeleted: boolean;
}

/**
 * Where a page ends: servers are listed by (updatedAt, id), so a server changed meanwhile moves to the end.
 * `updatedAt` is stamped by the database (migration Migration20261203152000).
 */
export interface PageCursor {
  readonly updatedAt: Date;
  readonly id: string;
}

export interface RegistryApiSettings {
  readonly namespaceBase: string;
  readonly keyring: Keyring;
  /** The gateway's public origin, for the `/mcp/{id}` remotes of virtual servers. */
  readonly publicOrigin: () => string;
}

type Listed =
  | { readonly kind: 'registered'; row: MCPServer }
  | { readonly kind: 'older'; row: ServerVersion }
  | { readonly kind: 'virtual'; row: VirtualServer };

/** Versions of a server other than the one it announces now (that one is the server itself, the latest). */
const notCurrent = () =>
  raw(
    (alias: string) =>
      `(${alias}.version is distinct from (select s.server_info->>'version' from mcp_servers s where s.id = ${alias}.server_id))`,
  );

/**
 * Reads the registry as the Registry API lists it: every registered HTTP/SSE server and every virtual server
 * of the EntityManager's tenant scope, as server.json. A page costs a constant number of statements.
 */
export class RegistryApiService {
  constructor(
    private readonly em: EntityManager,
    private readonly settings: RegistryApiSettings,
  ) {}

  async list(query: ListQuery): Promise<ServerList> {
    if (query.search !== null) requireSearchLength(query.search, 'search');
    // Read in a statement of its own, before the rows: only rows stamped before it are listed, so a client that
    // resumes from the last `updatedAt` or cursor it saw misses no change that commits later (a change whose
    // transaction is still open shows once that transaction ends).
    const horizon = await changeHorizon(this.em);
    const settled = { updatedAt: { $lt: horizon } };
    const keyset = (cursor: PageCursor | null) =>
      cursor === null
        ? {}
        : {
            $or: [
              { updatedAt: { $gt: cursor.updatedAt } },
              { updatedAt: cursor.updatedAt, id: { $gt: cursor.id } },
            ],
          };
    const since = query.updatedSince === null ? {} : { updatedAt: { $gt: query.updatedSince } };
    // `search`: a substring of the server.json name (namespace and all), as the official registry matches it.
    const search =
      query.search === null
        ? null
        : { text: query.search, namespaces: JSON.stringify(Object.fromEntries(await this.namespaces())) };
    const named = (suffix: string) =>
      search === null ? {} : nameContains(suffix, search.namespaces, search.text);
    const exact = query.version !== null && query.version !== 'latest' ? query.version : null;
    const serverWhere: FilterQuery<MCPServer> = {
      $and: [
        { transportType: { $in: REMOTE_TRANSPORTS } },
        settled,
        keyset(query.after),
        since,
        named(''),
        exact === null
          ? {}
          : exact === UNKNOWN_VERSION
            ? { serverInfo: null }
            : { serverInfo: { version: exact } },
      ],
    };
    // Virtual servers speak the gateway's own version; an inactive one is listed as deleted.
    const virtualVisible = exact === null || exact === SERVICE_VERSION;
    const virtualWhere: FilterQuery<VirtualServer> = {
      $and: [
        settled,
        keyset(query.after),
        since,
        named(VIRTUAL_NAMESPACE_SUFFIX),
        query.includeDeleted ? {} : { isActive: true },
      ],
    };
    const options = { orderBy: { updatedAt: 'asc', id: 'asc' }, limit: query.limit + 1 } as const;
    const servers = await this.em.find(MCPServer, serverWhere, {
      ...options,
      populate: ['tenant', 'sealedHeaders'],
    });
    // Every version unless only the latest is asked for: the older ones a server announced before.
    const older =
      query.version === 'latest'
        ? []
        : await this.em.find(
            ServerVersion,
            {
              $and: [
                { [notCurrent()]: true },
                { server: { transportType: { $in: REMOTE_TRANSPORTS } } },
                settled,
                keyset(query.after),
                since,
                search === null ? {} : { server: named('') },
                exact === null ? {} : { version: exact },
              ],
            },
            { ...options, populate: ['server', 'server.tenant', 'server.sealedHeaders'] },
          );
    const virtuals = virtualVisible
      ? await this.em.find(VirtualServer, virtualWhere, { ...options, populate: ['tenant'] })
      : [];
    const merged: Listed[] = [
      ...servers.map((row) => ({ kind: 'registered' as const, row })),
      ...older.map((row) => ({ kind: 'older' as const, row })),
      ...virtuals.map((row) => ({ kind: 'virtual' as const, row })),
    ].sort((a, b) => a.row.updatedAt.getTime() - b.row.updatedAt.getTime() || (a.row.id < b.row.id ? -1 : 1));
    const page = merged.slice(0, query.limit);
    const last = page.at(-1);
    const answers = await this.answers(page);
    return {
      servers: answers,
      metadata: {
        ...(merged.length > query.limit && last !== undefined
          ? { nextCursor: encodeCursor({ updatedAt: last.row.updatedAt, id: last.row.id }) }
          : {}),
        count: answers.length,
      },
    };
  }

  /** The versions of one server by its Registry API name; `null` when no server of the scope has it. */
  async versions(name: string, includeDeleted: boolean): Promise<ServerResponse[] | null> {
    const found = await this.findByName(name, includeDeleted);
    if (found === null) return null;
    if (found.kind !== 'registered') return this.answers([found]);
    const older = await this.em.find(
      ServerVersion,
      { server: found.row.id, [notCurrent()]: true },
      {
        orderBy: { createdAt: 'desc', id: 'desc' },
        populate: ['server', 'server.tenant', 'server.sealedHeaders'],
      },
    );
    // Newest first, as the OpenAPI document orders them: the latest (the server itself), then the older ones.
    return this.answers([found, ...older.map((row) => ({ kind: 'older' as const, row }))]);
  }

  private async findByName(name: string, includeDeleted: boolean): Promise<Listed | null> {
    const slash = name.indexOf('/');
    if (slash <= 0 || slash !== name.lastIndexOf('/')) return null;
    let namespace = name.slice(0, slash);
    const part = name.slice(slash + 1);
    const virtual = namespace.endsWith(VIRTUAL_NAMESPACE_SUFFIX);
    if (virtual) namespace = namespace.slice(0, -VIRTUAL_NAMESPACE_SUFFIX.length);
    const tenantIds = [...(await this.namespaces())]
      .filter(([, tenantNamespace]) => tenantNamespace === namespace)
      .map(([id]) => id);
    if (tenantIds.length === 0) return null;
    const byPart = { [raw((alias: string) => SERVER_NAME_PART_SQL(alias))]: part };
    if (virtual) {
      const row = await this.em.findOne(
        VirtualServer,
        { tenant: { $in: tenantIds }, ...(includeDeleted ? {} : { isActive: true }), ...byPart },
        { populate: ['tenant'], orderBy: { createdAt: 'asc' } },
      );
      return row === null ? null : { kind: 'virtual', row };
    }
    const row = await this.em.findOne(
      MCPServer,
      { tenant: { $in: tenantIds }, transportType: { $in: REMOTE_TRANSPORTS }, ...byPart },
      { populate: ['tenant', 'sealedHeaders'] },
    );
    return row === null ? null : { kind: 'registered', row };
  }

  /** The namespace of every tenant of the scope (one, for a tenant's key), by tenant id. */
  private async namespaces(): Promise<Map<string, string>> {
    const tenants = await this.em.find(Tenant, {}, { fields: ['id', 'name', 'registryNamespace'] });
    return new Map(
      tenants.map((tenant) => [tenant.id, registryNamespaceOf(this.settings.namespaceBase, tenant)]),
    );
  }

  /** server.json and metadata for listed servers: circuits, tool counts and member counts in one batch each. */
  private async answers(listed: readonly Listed[]): Promise<ServerResponse[]> {
    const serverIds = [
      ...new Set(
        listed.flatMap((item) =>
          item.kind === 'registered' ? [item.row.id] : item.kind === 'older' ? [item.row.server.id] : [],
        ),
      ),
    ];
    const virtualIds = listed.filter((item) => item.kind === 'virtual').map((item) => item.row.id);
    const circuits = new Map<string, string>();
    const toolCounts = new Map<string, number>();
    const memberCounts = new Map<string, number>();
    if (serverIds.length > 0) {
      for (const circuit of await this.em.find(CircuitBreaker, { server: { $in: serverIds } })) {
        circuits.set(circuit.server.id, circuit.state);
      }
      const counts: { server_id: string; count: string | number }[] = await this.em
        .createQueryBuilder(ServerTool)
        .select(['server', raw('count(*) as count')])
        .where({ server: { $in: serverIds } })
        .groupBy('server')
        .execute('all', false);
      for (const count of counts) toolCounts.set(count.server_id, Number(count.count));
    }
    if (virtualIds.length > 0) {
      const counts: { virtual_server_id: string; count: string | number }[] = await this.em
        .createQueryBuilder(VirtualServerMember)
        .select(['virtualServer', raw('count(*) as count')])
        .where({ virtualServer: { $in: virtualIds } })
        .groupBy('virtualServer')
        .execute('all', false);
      for (const count of counts) memberCounts.set(count.virtual_server_id, Number(count.count));
    }
    return listed.map((item) => {
      if (item.kind === 'virtual') return this.virtual(item.row, memberCounts.get(item.row.id) ?? 0);
      const server = item.kind === 'registered' ? item.row : item.row.server.getEntity();
      const answer = this.registered(server, circuits.get(server.id), toolCounts.get(server.id) ?? 0);
      return item.kind === 'registered' ? answer : olderVersion(answer, item.row);
    });
  }

  private registered(server: MCPServer, circuitState: string | undefined, toolCount: number): ServerResponse {
    const info = server.serverInfo ?? {};
    const discovered = typeof info.version === 'string' && info.version !== '';
    const title = typeof info.title === 'string' && info.title !== '' ? info.title : server.name;
    const namespace = registryNamespaceOf(this.settings.namespaceBase, server.tenant.getEntity());
    const headers = this.headerNames(server);
    const remote: RemoteTransport = {
      type: server.transportType === TransportType.SSE ? 'sse' : 'streamable-http',
      url: server.endpointUrl,
      ...(headers.length > 0 ? { headers } : {}),
    };
    return {
      server: {
        $schema: SERVER_SCHEMA_URL,
        name: `${namespace}/${serverNamePart(server)}`,
        description: clipped(server.description || title),
        title: clipped(title),
        version: discovered ? String(info.version) : UNKNOWN_VERSION,
        remotes: [remote],
      },
      _meta: {
        [OFFICIAL_META_KEY]: {
          status: 'active',
          publishedAt: server.createdAt.toISOString(),
          updatedAt: server.updatedAt.toISOString(),
          isLatest: true,
        },
        [GATEWAY_META_KEY]: {
          kind: 'registered',
          id: server.id,
          healthStatus: server.healthStatus.toUpperCase(),
          circuitState: (circuitState ?? 'closed').toUpperCase(),
          toolCount,
          lastHealthCheckAt: server.lastHealthCheckAt?.toISOString() ?? null,
          versionDiscovered: discovered,
        },
      },
    };
  }

  private virtual(server: VirtualServer, memberCount: number): ServerResponse {
    const namespace = registryNamespaceOf(this.settings.namespaceBase, server.tenant.getEntity());
    return {
      server: {
        $schema: SERVER_SCHEMA_URL,
        name: `${namespace}${VIRTUAL_NAMESPACE_SUFFIX}/${serverNamePart(server)}`,
        description: clipped(server.description || `Virtual server ${server.name} of the MCP gateway`),
        title: clipped(server.name),
        version: SERVICE_VERSION,
        remotes: [
          {
            type: 'streamable-http',
            url: virtualServerEndpointUrl(this.settings.publicOrigin(), server.id),
            headers: [
              {
                name: 'Authorization',
                description: 'Bearer <API key with the PROXY scope>',
                isRequired: true,
                isSecret: true,
              },
            ],
          },
        ],
      },
      _meta: {
        [OFFICIAL_META_KEY]: {
          status: server.isActive ? 'active' : 'deleted',
          publishedAt: server.createdAt.toISOString(),
          updatedAt: server.updatedAt.toISOString(),
          isLatest: true,
        },
        [GATEWAY_META_KEY]: { kind: 'virtual', id: server.id, memberCount },
      },
    };
  }

  /** The names of the headers a server is reached with, never their values. */
  private headerNames(server: MCPServer): RemoteTransport['headers'] & object {
    let headers: Record<string, string> | null;
    try {
      headers = openConnectionHeaders(this.settings.keyring, server.id, server.sealedHeaders);
    } catch (error) {
      if (!(error instanceof SealedValueError)) throw error;
      return [];
    }
    return Object.keys(headers ?? {}).map((name) => ({ name, isRequired: true, isSecret: true }));
  }
}

/** A server's answer as it was at an older version: that version's own title and description, not the latest. */
function olderVersion(latest: ServerResponse, row: ServerVersion): ServerResponse {
  const title = row.title !== null && row.title !== '' ? row.title : latest.server.title;
  return {
    server: {
      ...latest.server,
      version: row.version,
      ...(title === undefined ? {} : { title: clipped(title) }),
      description: clipped(row.description || title || latest.server.description),
    },
    _meta: {
      [OFFICIAL_META_KEY]: {
        status: 'active',
        publishedAt: row.createdAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
        isLatest: false,
      },
      [GATEWAY_META_KEY]: { ...latest._meta[GATEWAY_META_KEY], versionDiscovered: true },
    },
  };
}

/**
 * The time before which every change to a listed row has committed (`registry_change_horizon()`, migration
 * Migration20261203152000). Its own statement: the rows must be read with a later snapshot.
 */
async function changeHorizon(em: EntityManager): Promise<Date> {
  const [row] = await em.execute<{ at: string | number }[]>(
    'select extract(epoch from registry_change_horizon()) * 1000 as at',
  );
  return new Date(Number(row?.at));
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt.toISOString(), cursor.id])).toString('base64url');
}

/** The cursor a page handed out; `null` for anything else. */
export function decodeCursor(text: string): PageCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [at, id] = value;
    if (typeof at !== 'string' || typeof id !== 'string') return null;
    const updatedAt = new Date(at);
    if (Number.isNaN(updatedAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) return null;
    return { updatedAt, id };
  } catch {
    return null;
  }
}

/**
 * Rows of `alias` (a server or a virtual server) whose Registry API name holds `search`: the tenant's namespace
 * (from `namespaces`, JSON of tenant id to namespace), `suffix`, a slash and the server's name part.
 */
function nameContains(suffix: string, namespaces: string, search: string): Dictionary {
  const nameSql = (alias: string) =>
    `(coalesce(cast(? as jsonb) ->> ${alias}.tenant_id::text, '') || '${suffix}/' || ${SERVER_NAME_PART_SQL(alias)})`;
  const contains = (alias: string) => containsTextSql([nameSql(alias)], search);
  return { [raw((alias: string) => contains(alias)[0], [namespaces, ...contains('row')[1]])]: true };
}
