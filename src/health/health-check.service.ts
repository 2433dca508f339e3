import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { HealthSettings } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import { badUserInput } from '../graphql/errors.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { mcpTransportOf } from '../registry/capabilities.js';
import { loadConnectionHeaders } from '../registry/connection-headers.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { findVisibleServer } from '../registry/server.service.js';
import { checkServer } from './probe.js';

export interface HealthCheckDependencies {
  readonly pubSub: EventPublisher;
  readonly health: HealthSettings;
  readonly keyring: Keyring;
}

/**
 * Probes a server the caller may see now, records and publishes the result like a scheduled probe, audits
 * `server.health_check`, and returns the server with its updated health. The probe runs outside any
 * transaction.
 */
export async function checkServerNow(
  em: EntityManager,
  actor: AuditActor,
  id: string,
  deps: HealthCheckDependencies,
): Promise<MCPServer> {
  const server = await findVisibleServer(em, id);
  if (mcpTransportOf(server.transportType, deps.health.allowStdio) === null) {
    const unless = server.transportType === TransportType.STDIO ? ' unless ALLOW_STDIO=true' : '';
    throw badUserInput(`${server.transportType.toUpperCase()} servers are not probed${unless}.`, 'id');
  }
  const headers = await loadConnectionHeaders(em, deps.keyring, server);
  await checkServer(em.fork(), deps.pubSub, deps.health, {
    serverId: server.id,
    endpointUrl: server.endpointUrl,
    transportType: server.transportType,
    headers,
  });
  const entry = { action: 'server.health_check', resourceType: 'server' };
  return audited(em, actor, entry, async (tx) => ({
    result: await tx.findOneOrFail(MCPServer, server.id, { refresh: true }),
    resourceId: server.id,
  }));
}
