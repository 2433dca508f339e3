import type { EntityManager } from '../db/orm.js';
import { tenantFilter, type Viewer } from '../graphql/access.js';
import { notFound } from '../graphql/errors.js';
import { isUuid } from '../graphql/validate.js';
import { MCPServer } from './mcp-server.entity.js';

/** The server with this id if the viewer's tenant owns it (or the viewer is an admin); NOT_FOUND otherwise. */
export async function findVisibleServer(em: EntityManager, viewer: Viewer, id: string): Promise<MCPServer> {
  const server = isUuid(id) ? await em.findOne(MCPServer, { id, ...tenantFilter(viewer) }) : null;
  if (!server) throw notFound('Server', id);
  return server;
}
