import { LockMode, type Ref } from '@mikro-orm/core';
import type { Keyring } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import { ApiError, badUserInput, ErrorCode } from '../graphql/errors.js';
import type { JsonObject, JsonValue } from '../graphql/scalars.js';
import { type Inspection, inspectServer, McpInspectionError, type McpTarget } from '../mcp/mcp-client.js';
import { openStoredConnectionHeaders } from './connection-headers.js';
import { MCPServer } from './mcp-server.entity.js';
import { TransportType } from './registry.enums.js';
import { ServerPrompt } from './server-prompt.entity.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';
import { ServerVersion } from './server-version.entity.js';

export interface DiscoveryTarget {
  readonly endpointUrl: string;
  readonly transportType: TransportType;
  readonly headers: Record<string, string> | null;
}

export interface DiscoverySettings {
  /** Deadline for the whole exchange (for STDIO, starting the process included). */
  readonly timeoutMs: number;
  /** Whether the registry may spawn a STDIO server's command (`ALLOW_STDIO`). */
  readonly allowStdio: boolean;
}

/**
 * The MCP transport the registry speaks to a server of this type (to discover or probe it): the HTTP ones,
 * STDIO only when the operator lets it spawn commands (`ALLOW_STDIO`); WEBSOCKET is not an MCP transport.
 */
export function mcpTransportOf(type: TransportType, allowStdio: boolean): McpTarget['transport'] | null {
  switch (type) {
    case TransportType.STREAMABLE_HTTP:
    case TransportType.SSE:
      return type;
    case TransportType.STDIO:
      return allowStdio ? type : null;
    case TransportType.WEBSOCKET:
      return null;
  }
}

/** What `callTargetOf` reads of a server: its columns that say where and how, and its headers as stored. */
export interface CallableServer extends Readonly<Pick<MCPServer, 'id' | 'endpointUrl' | 'transportType'>> {
  readonly sealedHeaders: unknown;
}

/**
 * Where and how the gateway reaches a server for a client's request: its endpoint, transport and opened
 * headers. Headers that cannot be opened are CREDENTIALS_UNAVAILABLE (the server is not contacted); a transport
 * the gateway does not call is a bug of the caller, which filters those out first.
 */
export function callTargetOf(keyring: Keyring, server: CallableServer, allowStdio: boolean): McpTarget {
  const transport = mcpTransportOf(server.transportType, allowStdio);
  if (transport === null) throw new Error(`server ${server.id} is not callable`);
  const headers = openStoredConnectionHeaders(keyring, server.id, server.sealedHeaders);
  return { endpointUrl: server.endpointUrl, transport, headers, serverId: server.id };
}

/**
 * Connects to the server as an MCP client (for STDIO: spawns its command) and reads what it offers. A server
 * that cannot be read is a problem of the input: BAD_USER_INPUT, with what failed (TIMEOUT, UNREACHABLE,
 * AUTH_FAILED, PROTOCOL_ERROR) in `extensions.discovery`.
 */
export async function discoverCapabilities(
  target: DiscoveryTarget,
  settings: DiscoverySettings,
): Promise<Inspection> {
  const transport = mcpTransportOf(target.transportType, settings.allowStdio);
  if (transport === null) {
    const why =
      target.transportType === TransportType.STDIO
        ? 'the registry starts their command only when it runs with ALLOW_STDIO=true'
        : 'they are not MCP servers the registry can talk to';
    throw badUserInput(
      `${target.transportType.toUpperCase()} servers cannot be asked for their capabilities (${why}): ` +
        'register them with discover: false and declare their tools, resources and prompts.',
      'discover',
    );
  }
  try {
    return await inspectServer(
      { endpointUrl: target.endpointUrl, transport, headers: target.headers },
      { timeoutMs: settings.timeoutMs },
    );
  } catch (error) {
    if (!(error instanceof McpInspectionError)) throw error;
    throw new ApiError(
      ErrorCode.BAD_USER_INPUT,
      `The server could not be read as an MCP server: ${error.message}`,
      {
        field: 'endpointUrl',
        discovery: { outcome: error.outcome.toUpperCase(), message: error.message },
      },
    );
  }
}

/**
 * Makes the stored capabilities match an inspection: tools, resources and prompts that appeared are added,
 * those that disappeared are removed, and those that stayed are updated in place, keeping their usage
 * statistics. The caller flushes (inside its transaction).
 */
export async function syncCapabilities(
  em: EntityManager,
  server: MCPServer,
  inspection: Inspection,
): Promise<void> {
  server.capabilities = inspection.capabilities;
  server.protocolVersion = inspection.protocolVersion;
  server.serverInfo = inspection.serverInfo;
  server.capabilitiesDiscovered = true;
  server.capabilitiesRefreshedAt = new Date();
  const ref = em.getReference(MCPServer, server.id, { wrapped: true });
  await recordVersion(em, ref, server, inspection.serverInfo);
  // One after another: inside a transaction the three share one connection, which runs one query at a time.
  const tools = await em.find(ServerTool, { server: server.id });
  const resources = await em.find(ServerResource, { server: server.id });
  const prompts = await em.find(ServerPrompt, { server: server.id });

  reconcile(
    em,
    tools,
    inspection.tools,
    (tool) => tool.name,
    (found) => new ServerTool(ref, found.name),
    (tool, found) => {
      tool.description = found.description ?? found.title;
      tool.toolSchema = found.inputSchema;
      tool.annotations = found.annotations;
    },
  );

  const offered = [
    ...inspection.resources.map((resource) => ({ ...resource, uriTemplate: resource.uri })),
    ...inspection.resourceTemplates,
  ];
  reconcile(
    em,
    resources,
    offered,
    (resource) => resource.uriTemplate,
    (found) => new ServerResource(ref, found.uriTemplate),
    (resource, found) => {
      resource.name = found.name;
      resource.description = found.description;
      resource.mimeType = found.mimeType;
    },
  );

  reconcile(
    em,
    prompts,
    inspection.prompts,
    (prompt) => prompt.name,
    (found) => new ServerPrompt(ref, found.name),
    (prompt, found) => {
      prompt.description = found.description;
      prompt.arguments = found.arguments.map((argument) => ({ ...argument }) as JsonValue);
    },
  );
}

/** Keyed three-way merge of stored rows with what the server offers now. */
function reconcile<Row extends object, Found>(
  em: EntityManager,
  stored: Row[],
  offered: readonly Found[],
  keyOf: (item: Row | Found) => string,
  create: (found: Found) => Row,
  update: (row: Row, found: Found) => void,
): void {
  const byKey = new Map(stored.map((row) => [keyOf(row), row]));
  const seen = new Set<string>();
  for (const found of offered) {
    const key = keyOf(found);
    if (seen.has(key)) continue; // a server listing the same name twice: keep the first
    seen.add(key);
    const row = byKey.get(key) ?? create(found);
    update(row, found);
    em.persist(row);
  }
  for (const [key, row] of byKey) if (!seen.has(key)) em.remove(row);
}

/**
 * The scheduled refresh of one server's capabilities (no caller, no audit row): read them, then store them
 * if the server is still registered. A server that cannot be read keeps what it had; its health probes
 * report the problem.
 */
export async function refreshCapabilities(
  em: EntityManager,
  serverId: string,
  target: DiscoveryTarget,
  settings: DiscoverySettings,
): Promise<boolean> {
  let inspection: Inspection;
  try {
    inspection = await discoverCapabilities(target, settings);
  } catch (error) {
    if (error instanceof ApiError) return false;
    throw error;
  }
  return em.transactional(async (tx) => {
    const server = await tx.findOne(MCPServer, serverId, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!server) return false;
    await syncCapabilities(tx, server, inspection);
    return true;
  });
}

/**
 * Keeps the version the server announced (`serverInfo.version`) in its history: a new version gets a row (and
 * so becomes the latest, as `serverInfo` now says), an old one stays as it was.
 */
async function recordVersion(
  em: EntityManager,
  ref: Ref<MCPServer>,
  server: MCPServer,
  serverInfo: JsonObject | null,
): Promise<void> {
  const announced = serverInfo?.version;
  if (typeof announced !== 'string' || announced === '') return;
  const version = announced.slice(0, 255);
  const known = await em.findOne(ServerVersion, { server: server.id, version });
  const title = typeof serverInfo?.title === 'string' ? serverInfo.title : null;
  if (known === null) {
    em.persist(Object.assign(new ServerVersion(ref, version), { title, description: server.description }));
    // The older versions are no longer the latest: a change readers of `updated_since` must see.
    await em.nativeUpdate(ServerVersion, { server: server.id }, { updatedAt: new Date() });
  } else if (known.title !== title || known.description !== server.description) {
    known.title = title;
    known.description = server.description;
  }
}
