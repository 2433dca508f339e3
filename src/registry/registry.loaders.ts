import type DataLoader from 'dataloader';
import { countLoader, manyLoader, oneLoader } from '../db/loaders.js';
import type { EntityManager } from '../db/orm.js';
import { CircuitBreaker } from './circuit-breaker.entity.js';
import { MCPServer } from './mcp-server.entity.js';
import { ServerPrompt } from './server-prompt.entity.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';

export interface RegistryLoaders {
  /** Number of servers per tenant id, among those the viewer may see. */
  readonly serverCountByTenant: DataLoader<string, number>;
  readonly toolsByServer: DataLoader<string, ServerTool[]>;
  readonly resourcesByServer: DataLoader<string, ServerResource[]>;
  readonly promptsByServer: DataLoader<string, ServerPrompt[]>;
  readonly circuitBreakerByServer: DataLoader<string, CircuitBreaker | null>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends RegistryLoaders {}
}

export function createRegistryLoaders(em: EntityManager): RegistryLoaders {
  return {
    serverCountByTenant: countLoader(em, MCPServer, 'tenant'),
    toolsByServer: manyLoader(em, ServerTool, 'server', { name: 'ASC' }),
    resourcesByServer: manyLoader(em, ServerResource, 'server', { uriTemplate: 'ASC', id: 'ASC' }),
    promptsByServer: manyLoader(em, ServerPrompt, 'server', { name: 'ASC' }),
    circuitBreakerByServer: oneLoader(em, CircuitBreaker, 'server'),
  };
}
