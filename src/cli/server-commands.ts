import type { AppConfig } from '../config.js';
import { openKeyring } from '../crypto/development-key.js';
import type { EntityManager } from '../db/orm.js';
import { CommandError } from '../entry-point.js';
import { checkServerNow } from '../health/health-check.service.js';
import type { Logger } from '../logger.js';
import { createEventBus } from '../pubsub/pubsub.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { registerServer } from '../registry/server.service.js';
import { CONSOLE_ACTOR, CONSOLE_VIEWER } from './console-operator.js';
import { printRecord, printRows } from './output.js';

export interface RegisterOptions {
  readonly tenant?: string;
  readonly name?: string;
  readonly url?: string;
  readonly transport?: string;
  /** `Name: value`, repeatable: sent to the server with every request, stored sealed. */
  readonly header?: string[];
  readonly discover: boolean;
}

/** What `server register` and `server check` print of a server. */
function serverRecord(server: MCPServer) {
  return {
    id: server.id,
    status: server.healthStatus.toUpperCase(),
    transport: server.transportType.toUpperCase(),
    tenantId: server.tenant.id,
    name: server.name,
    endpointUrl: server.endpointUrl,
  };
}

/** `server list [--tenant <id>]`: every registered server (of one tenant), by name. */
export async function listServers(
  em: EntityManager,
  tenantId: string | undefined,
  json: boolean,
): Promise<void> {
  const servers = await em.find(MCPServer, tenantId === undefined ? {} : { tenant: tenantId }, {
    orderBy: { name: 'ASC', id: 'ASC' },
  });
  printRows(
    servers.map(serverRecord),
    ['id', 'status', 'transport', 'tenantId', 'name', 'endpointUrl'],
    json,
  );
}

/**
 * `server register`: as the `registerServer` mutation (validated, discovered unless `--no-discover`, audited),
 * for a tenant named by id.
 */
export async function registerFromConsole(
  em: EntityManager,
  config: AppConfig,
  log: Logger,
  options: RegisterOptions,
  json: boolean,
): Promise<void> {
  const headers = Object.fromEntries((options.header ?? []).map(parseHeader));
  const server = await registerServer(
    em,
    CONSOLE_ACTOR,
    CONSOLE_VIEWER,
    {
      name: options.name ?? '',
      endpointUrl: options.url ?? '',
      transportType: transportOf(options.transport ?? 'streamable_http'),
      tenantId: options.tenant ?? null,
      headers: Object.keys(headers).length === 0 ? null : headers,
      discover: options.discover,
    },
    {
      circuit: config.circuit,
      discoveryTimeoutMs: config.health.timeoutMs,
      allowStdio: config.health.allowStdio,
      keyring: openKeyring(config, log),
    },
  );
  printRecord(serverRecord(server), json);
}

/** `server check <id>`: probes it now, as `checkServerHealth` does, and prints its health. */
export async function checkFromConsole(
  em: EntityManager,
  config: AppConfig,
  log: Logger,
  id: string,
  json: boolean,
): Promise<void> {
  const bus = createEventBus(config.redisUrl, log);
  try {
    const server = await checkServerNow(em, CONSOLE_ACTOR, id, {
      pubSub: bus.pubSub,
      health: config.health,
      keyring: openKeyring(config, log),
    });
    printRecord({ ...serverRecord(server), responseTimeMs: server.avgResponseTime }, json);
  } finally {
    await bus.close();
  }
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CommandError(`--header must be "Name: value", got "${text}"`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

function transportOf(text: string): TransportType {
  const transport = Object.values(TransportType).find((candidate) => candidate === text.toLowerCase());
  if (transport === undefined) {
    throw new CommandError(`--transport must be one of ${Object.values(TransportType).join(', ')}`);
  }
  return transport;
}
