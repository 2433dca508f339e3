import { type AuditActor, audited, auditFailure } from '../audit/audit-trail.js';
import type { CircuitSettings } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import { isUniqueViolation } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import { placeholders, type SqlCondition } from '../db/sql-condition.js';
import { isAdmin, type Viewer } from '../graphql/access.js';
import { badUserInput, conflict, forbidden, notFound } from '../graphql/errors.js';
import {
  type Connection,
  cursorValue,
  keysetAfterSql,
  OrderDirection,
  type PageRequest,
  toConnection,
} from '../graphql/pagination.js';
import { isUuid, requireName } from '../graphql/validate.js';
import type { Inspection } from '../mcp/mcp-client.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { discoverCapabilities, syncCapabilities } from './capabilities.js';
import { CircuitBreaker } from './circuit-breaker.entity.js';
import { loadConnectionHeaders, movesElsewhere, sealConnectionHeaders } from './connection-headers.js';
import { MCPServer } from './mcp-server.entity.js';
import { TransportType } from './registry.enums.js';
import type { RegistryLoaders, ServerRow } from './registry.loaders.js';
import type { RegisterServerInput, ServerFilter, ServerOrder, UpdateServerInput } from './server.inputs.js';
import { ServerOrderField } from './server.inputs.js';
import {
  type DeclaredPrompt,
  type DeclaredResource,
  type DeclaredTool,
  optionalDescription,
  requireEndpoint,
  requireFailureThreshold,
  requireHeaders,
  requirePrompts,
  requireResources,
  requireTags,
  requireTools,
  validateServerChanges,
} from './server-input.validation.js';
import { countServers, readServerPage, type ServerPageSelection, serverColumnSql } from './server-page.js';
import { ServerPrompt } from './server-prompt.entity.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';
import {
  containsTextSql,
  MAX_SEARCH_WORDS,
  matchesAnyWordSql,
  requireSearchLength,
  searchWords,
} from './text-search.js';
import { looksLikeUri } from './uri-template.js';

const DEFAULT_ORDER: ServerOrder = { field: ServerOrderField.NAME, direction: OrderDirection.ASC };
const MAX_FILTER_ITEMS = 50;

/**
 * The server with this id if it is inside the request's tenant scope (src/db/tenant-scope.ts: its tenant, its
 * key's allowed servers; everything for admins); NOT_FOUND otherwise, as for an id that does not exist.
 */
export async function findVisibleServer(em: EntityManager, id: string): Promise<MCPServer> {
  const server = isUuid(id) ? await em.findOne(MCPServer, { id }) : null;
  if (!server) throw notFound('Server', id);
  return server;
}

/**
 * One page of the servers the viewer may see that match `filter`, in `order`, and how many match in all (when
 * `countAll`): two statements, the relations the `selection` names read with the page into the request's
 * loaders.
 */
export async function listServers(
  em: EntityManager,
  loaders: RegistryLoaders,
  filter: ServerFilter | null | undefined,
  order: ServerOrder | null | undefined,
  page: PageRequest,
  wanted: { readonly countAll: boolean; readonly selection: ServerPageSelection },
): Promise<Connection<ServerRow>> {
  const { field, direction } = order ?? DEFAULT_ORDER;
  const runtimeType = em.getMetadata().get(MCPServer).properties[field].runtimeType;
  const keyset = { sort: serverColumnSql(em, field), id: serverColumnSql(em, 'id') };
  const after = keysetAfterSql(keyset, runtimeType, direction, page.after);
  const matching = [...serverConditions(em, filter ?? {}), ...relatedConditions(filter ?? {})];
  const [rows, totalCount] = await Promise.all([
    readServerPage(
      em,
      loaders,
      {
        conditions: after === null ? matching : [...matching, after],
        order: { field, direction },
        limit: page.first + 1,
      },
      wanted.selection,
    ),
    // Not counted when the request does not ask: a count of every match is the dearer half of a page.
    wanted.countAll ? countServers(em, matching) : Promise.resolve(0),
  ]);
  return toConnection(rows, page, totalCount, (server) => ({
    sortValue: cursorValue(server[field]),
    id: server.id,
  }));
}

/** Conditions on the server row itself. */
function serverConditions(em: EntityManager, filter: ServerFilter): SqlCondition[] {
  const conditions: SqlCondition[] = [];
  if (filter.tenantId != null) {
    // An id that is no UUID is no tenant's.
    conditions.push(
      isUuid(filter.tenantId)
        ? { sql: `${serverColumnSql(em, 'tenant')} = ?`, values: [filter.tenantId] }
        : { sql: 'false', values: [] },
    );
  }
  if (filter.healthStatus?.length)
    conditions.push(oneOf(serverColumnSql(em, 'healthStatus'), filter.healthStatus));
  if (filter.transportType?.length) {
    conditions.push(oneOf(serverColumnSql(em, 'transportType'), filter.transportType));
  }
  if (filter.tags?.length) {
    const tags = requireFilterList(filter.tags, 'tags');
    conditions.push({
      sql: `${serverColumnSql(em, 'tags')} @> array[${placeholders(tags)}]::text[]`,
      values: tags,
    });
  }
  return conditions;
}

/** `column in (…)` of `values` (at least one). */
function oneOf(column: string, values: readonly unknown[]): SqlCondition {
  return { sql: `${column} in (${placeholders(values)})`, values };
}

/** Conditions on a server's tools and resources, as SQL over the SERVER_ALIAS (`s`) alias. */
function relatedConditions(filter: ServerFilter): SqlCondition[] {
  const conditions: SqlCondition[] = [];
  const search = filter.search?.trim();
  if (search) conditions.push(searchCondition(search));
  if (filter.tools?.length) {
    const names = [...new Set(requireFilterList(filter.tools, 'tools'))];
    // Servers that have ALL the tools: as many distinct matching names as were asked for.
    conditions.push({
      sql:
        `s.id in (select t.server_id from server_tools t where t.name in (${placeholders(names)}) ` +
        'group by t.server_id having count(distinct t.name) = ?)',
      values: [...names, names.length],
    });
  }
  for (const pattern of requireFilterList(filter.resources ?? [], 'resources')) {
    if (looksLikeUri(pattern)) {
      conditions.push({
        sql:
          'exists (select 1 from server_resources r where r.server_id = s.id and ' +
          '((not r.is_template and r.uri_template = ?) or (r.is_template and ? ~ r.uri_regex)))',
        values: [pattern, pattern],
      });
    } else {
      const [contains, values] = containsTextSql(['r.uri_template'], pattern);
      conditions.push({
        sql: `exists (select 1 from server_resources r where r.server_id = s.id and ${contains})`,
        values,
      });
    }
  }
  return conditions;
}

/**
 * `search`: the server's name or description holds it literally (case aside, `%` and `_` included), or every
 * word of it is matched (as tool search matches words: text-search.ts) by the server or one of its tools.
 */
function searchCondition(search: string): SqlCondition {
  const [literal, literalParams] = containsTextSql(
    ['s.name', 's.description'],
    requireSearchLength(search, 'search'),
  );
  // A search of punctuation only (`_`) has no words: it matches literally or not at all.
  const words = searchWords(search).slice(0, MAX_SEARCH_WORDS);
  if (words.length === 0) return { sql: literal, values: literalParams };
  const conditions: string[] = [];
  const params: unknown[] = [...literalParams];
  for (const word of words) {
    const [serverMatch, serverParams] = matchesAnyWordSql('s', [word]);
    const [toolMatch, toolParams] = matchesAnyWordSql('t', [word]);
    conditions.push(
      `(${serverMatch} or s.id in (select t.server_id from server_tools t where ${toolMatch}))`,
    );
    params.push(...serverParams, ...toolParams);
  }
  return { sql: `${literal} or (${conditions.join(' and ')})`, values: params };
}

function requireFilterList(values: readonly string[], field: string): string[] {
  if (values.length > MAX_FILTER_ITEMS)
    throw badUserInput(`At most ${MAX_FILTER_ITEMS} ${field} in a filter.`, field);
  const trimmed = values.map((value) => value.trim());
  if (trimmed.some((value) => value.length === 0 || value.length > 2048)) {
    throw badUserInput(`Each of "${field}" must be 1 to 2048 characters.`, field);
  }
  return trimmed;
}

/**
 * A STDIO server's endpoint is a command the registry runs on its own host (where ALLOW_STDIO permits), so
 * only platform admins may register one or change its command, whatever ALLOW_STDIO says today.
 */
function requireStdioAdmin(viewer: Viewer, transportType: TransportType): void {
  if (transportType === TransportType.STDIO && !isAdmin(viewer)) {
    throw forbidden(
      "A STDIO server's command runs on the registry's host: registering or changing one needs the ADMIN scope.",
    );
  }
}

/** The tenant a new server goes to: the caller's own, or for admins any existing tenant they name. */
export async function targetTenant(
  em: EntityManager,
  viewer: Viewer,
  tenantId: string | null | undefined,
): Promise<Tenant> {
  const id = tenantId ?? viewer.tenantId;
  if (id === null) throw badUserInput('"tenantId" is required for a key without a tenant.', 'tenantId');
  const visible = isUuid(id) && (isAdmin(viewer) || id === viewer.tenantId);
  const tenant = visible ? await em.findOne(Tenant, id) : null;
  if (!tenant) throw notFound('Tenant', id);
  return tenant;
}

interface Registration {
  readonly name: string;
  readonly endpointUrl: string;
  readonly description: string | null;
  readonly tags: string[];
  readonly headers: Record<string, string> | null;
  readonly failureThreshold: number;
  readonly tools: DeclaredTool[];
  readonly resources: DeclaredResource[];
  readonly prompts: DeclaredPrompt[];
}

function validateRegistration(input: RegisterServerInput, circuit: CircuitSettings): Registration {
  return {
    name: requireName(input.name, 'name'),
    endpointUrl: requireEndpoint(input.endpointUrl, input.transportType),
    description: optionalDescription(input.description),
    tags: requireTags(input.tags ?? []),
    headers: input.headers == null ? null : requireHeaders(input.headers),
    failureThreshold:
      input.failureThreshold == null
        ? circuit.failureThreshold
        : requireFailureThreshold(input.failureThreshold),
    tools: requireTools(input.tools ?? []),
    resources: requireResources(input.resources ?? []),
    prompts: requirePrompts(input.prompts ?? []),
  };
}

export interface RegistrySettings {
  readonly circuit: CircuitSettings;
  /** Deadline for reading a server's capabilities. */
  readonly discoveryTimeoutMs: number;
  /** Whether STDIO servers may be asked for their capabilities, by spawning their command (`ALLOW_STDIO`). */
  readonly allowStdio: boolean;
  /** Seals and opens the servers' connection headers. */
  readonly keyring: Keyring;
}

function discoverySettings(settings: Pick<RegistrySettings, 'discoveryTimeoutMs' | 'allowStdio'>) {
  return { timeoutMs: settings.discoveryTimeoutMs, allowStdio: settings.allowStdio };
}

/**
 * Registers a server with its circuit breaker and what it offers, in one transaction. With `discover: true`
 * the registry asks the server itself (an unreachable server is not registered); with `discover: false` it
 * stores the declared tools, resources and prompts. The health checker probes it first thing.
 */
export async function registerServer(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  input: RegisterServerInput,
  settings: RegistrySettings,
): Promise<MCPServer> {
  const registration = validateRegistration(input, settings.circuit);
  requireStdioAdmin(viewer, input.transportType);
  if (viewer.allowedServers !== null) {
    throw forbidden('This key is limited to some servers: it cannot register new ones.');
  }
  const entry = {
    action: 'server.register',
    resourceType: 'server',
    details: {
      name: registration.name,
      transportType: input.transportType.toUpperCase(),
      discover: input.discover,
    },
  };
  // The server is asked before the transaction begins: no database connection waits on the network.
  let inspection: Inspection | null = null;
  if (input.discover) {
    try {
      await targetTenant(em, viewer, input.tenantId);
      inspection = await discoverCapabilities(
        {
          endpointUrl: registration.endpointUrl,
          transportType: input.transportType,
          headers: registration.headers,
        },
        discoverySettings(settings),
      );
    } catch (error) {
      await auditFailure(em, actor, entry, error);
      throw error;
    }
  }
  return audited(em, actor, entry, async (tx) => {
    const tenant = await targetTenant(tx, viewer, input.tenantId);
    const server = new MCPServer({
      tenant: tx.getReference(Tenant, tenant.id, { wrapped: true }),
      name: registration.name,
      endpointUrl: registration.endpointUrl,
      transportType: input.transportType,
    });
    server.description = registration.description;
    server.tags = registration.tags;
    server.sealedHeaders = sealConnectionHeaders(settings.keyring, server.id, registration.headers);
    const serverRef = tx.getReference(MCPServer, server.id, { wrapped: true });
    tx.persist([
      server,
      new CircuitBreaker(serverRef, { ...settings.circuit, failureThreshold: registration.failureThreshold }),
    ]);
    if (inspection) {
      await syncCapabilities(tx, server, inspection);
    } else {
      tx.persist([
        ...registration.tools.map((tool) => Object.assign(new ServerTool(serverRef, tool.name), tool)),
        ...registration.resources.map((resource) => resourceEntity(serverRef, resource)),
        ...registration.prompts.map((prompt) =>
          Object.assign(new ServerPrompt(serverRef, prompt.name), prompt),
        ),
      ]);
    }
    await flushServer(tx, registration.name);
    return { result: server, resourceId: server.id };
  });
}

function resourceEntity(server: ServerTool['server'], declared: DeclaredResource): ServerResource {
  const resource = new ServerResource(server, declared.uriTemplate);
  resource.name = declared.name;
  resource.mimeType = declared.mimeType;
  return resource;
}

export function updateServer(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
  input: UpdateServerInput,
  keyring: Keyring,
): Promise<MCPServer> {
  const fields = Object.keys(input).filter((key) => input[key as keyof UpdateServerInput] !== undefined);
  const entry = { action: 'server.update', resourceType: 'server', details: { fields } };
  return audited(em, actor, entry, async (tx) => {
    const server = await findVisibleServer(tx, id);
    const changes = validateServerChanges(input, server);
    if (changes.endpointUrl !== undefined)
      requireStdioAdmin(viewer, changes.transportType ?? server.transportType);
    if (changes.headers === undefined && movesElsewhere(server.endpointUrl, changes.endpointUrl)) {
      await requireNoStoredHeaders(tx, server);
    }
    if (changes.name !== undefined) server.name = changes.name;
    if (changes.description !== undefined) server.description = changes.description;
    if (changes.endpointUrl !== undefined) server.endpointUrl = changes.endpointUrl;
    if (changes.transportType !== undefined) server.transportType = changes.transportType;
    if (changes.tags !== undefined) server.tags = changes.tags;
    if (changes.headers !== undefined) {
      server.sealedHeaders = sealConnectionHeaders(keyring, server.id, changes.headers);
    }
    if (changes.failureThreshold !== undefined) {
      const breaker = await tx.findOne(CircuitBreaker, { server: server.id });
      if (breaker) breaker.failureThreshold = changes.failureThreshold;
    }
    await flushServer(tx, server.name);
    return { result: server, resourceId: server.id };
  });
}

/**
 * Stored credentials were given for one host: a key that may edit a server must not be able to send them to a
 * host of its choosing by moving the server. Moving it elsewhere therefore takes its headers again.
 */
async function requireNoStoredHeaders(em: EntityManager, server: MCPServer): Promise<void> {
  await em.populate(server, ['sealedHeaders']);
  if (server.sealedHeaders === null) return;
  throw badUserInput(
    'This server has stored headers, which are not sent to another host: send `headers` again with the new ' +
      'endpointUrl (null to drop them).',
    'headers',
  );
}

/** Deletes a server; its tools, resources, prompts, breaker, history and routing targets go with it. */
export function deleteServer(em: EntityManager, actor: AuditActor, id: string): Promise<boolean> {
  return audited(em, actor, { action: 'server.delete', resourceType: 'server' }, async (tx) => {
    const server = await findVisibleServer(tx, id);
    await tx.nativeDelete(MCPServer, { id: server.id });
    return { result: true, resourceId: server.id };
  });
}

async function flushServer(em: EntityManager, name: string): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (isUniqueViolation(error, 'mcp_servers_tenant_id_name_unique')) {
      throw conflict(`This tenant already has a server named "${name}".`);
    }
    throw error;
  }
}

/**
 * Reads the server's capabilities again and updates the stored rows: what disappeared is removed, what stayed
 * keeps its usage statistics. The network exchange happens before the transaction.
 */
export async function refreshServerCapabilities(
  em: EntityManager,
  actor: AuditActor,
  id: string,
  settings: Pick<RegistrySettings, 'discoveryTimeoutMs' | 'allowStdio' | 'keyring'>,
): Promise<MCPServer> {
  const entry = { action: 'server.refresh', resourceType: 'server', resourceId: id };
  let inspection: Inspection;
  try {
    const server = await findVisibleServer(em, id);
    inspection = await discoverCapabilities(
      {
        endpointUrl: server.endpointUrl,
        transportType: server.transportType,
        headers: await loadConnectionHeaders(em, settings.keyring, server),
      },
      discoverySettings(settings),
    );
  } catch (error) {
    await auditFailure(em, actor, entry, error);
    throw error;
  }
  return audited(em, actor, entry, async (tx) => {
    const server = await findVisibleServer(tx, id);
    await syncCapabilities(tx, server, inspection);
    await tx.flush();
    return { result: server, resourceId: server.id };
  });
}
