import { loadById } from '../db/loaders.js';
import type { GraphQLContext } from '../graphql/context.js';
import { isUuid } from '../graphql/validate.js';
import { MCPServer } from './mcp-server.entity.js';
import { ServerTool } from './server-tool.entity.js';

// `_entities` for the registry's types. Loads go through MikroORM's reference dataloader, so a batch of
// representations costs one statement per type. The request's tenant scope applies to them as to every
// query: another tenant's ids, and servers outside a key's allowed servers, resolve to null like unknown ones.

export function resolveServerReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<MCPServer | null> {
  return isUuid(reference.id) ? loadById(context.em, MCPServer, reference.id) : Promise.resolve(null);
}

export function resolveToolReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<ServerTool | null> {
  return isUuid(reference.id) ? loadById(context.em, ServerTool, reference.id) : Promise.resolve(null);
}
