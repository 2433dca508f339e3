import type { EntityManager } from '../db/orm.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { printRows } from './output.js';

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
    servers.map((server) => ({
      id: server.id,
      status: server.healthStatus.toUpperCase(),
      transport: server.transportType.toUpperCase(),
      tenantId: server.tenant.id,
      name: server.name,
      endpointUrl: server.endpointUrl,
    })),
    ['id', 'status', 'transport', 'tenantId', 'name', 'endpointUrl'],
    json,
  );
}
