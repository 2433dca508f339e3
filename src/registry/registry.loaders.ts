import type DataLoader from 'dataloader';
import { countLoader } from '../db/count-loader.js';
import type { EntityManager } from '../db/orm.js';
import { MCPServer } from './mcp-server.entity.js';

export interface RegistryLoaders {
  /** Number of servers per tenant id. */
  readonly serverCountByTenant: DataLoader<string, number>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends RegistryLoaders {}
}

export function createRegistryLoaders(em: EntityManager): RegistryLoaders {
  return { serverCountByTenant: countLoader(em, MCPServer, 'tenant') };
}
