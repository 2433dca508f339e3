import { canAccessServer, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { isUuid } from '../graphql/validate.js';
import { MCPServer } from './mcp-server.entity.js';
import { ServerTool } from './server-tool.entity.js';

// `_entities` for the registry's types. Loads go through MikroORM's reference dataloader, so a batch of
// representations costs one statement per type; another tenant's ids resolve to null like unknown ones.

export async function resolveServerReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<MCPServer | null> {
  if (!isUuid(reference.id)) return null;
  const server = await context.em.getReference(MCPServer, reference.id, { wrapped: true }).load();
  return server && canAccessServer(viewerOf(context), { id: server.id, tenantId: server.tenant.id })
    ? server
    : null;
}

export async function resolveToolReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<ServerTool | null> {
  if (!isUuid(reference.id)) return null;
  const tool = await context.em.getReference(ServerTool, reference.id, { wrapped: true }).load();
  if (!tool) return null;
  return (await resolveServerReference({ id: tool.server.id }, context)) ? tool : null;
}
