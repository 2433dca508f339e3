import type { QueryOrderMap } from '@mikro-orm/core';
import type DataLoader from 'dataloader';
import type { Row } from '../db/json-rows.js';
import { byIdLoader, countLoader, ListedRows, manyLoader, oneLoader } from '../db/loaders.js';
import type { EntityManager } from '../db/orm.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { CircuitBreaker } from './circuit-breaker.entity.js';
import { MCPServer } from './mcp-server.entity.js';
import { ServerPrompt } from './server-prompt.entity.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';

// What GraphQL reads of a server and its relations: a managed entity, or the same columns as a plain row when a
// list page read them in one statement (server-page.ts). Field resolvers rely on nothing else; a list page's
// server holds only the columns the request selects, so MCPServer's field resolvers read only `id` and `tenant`.
export type ServerRow = Omit<Row<MCPServer, 'tenant'>, 'sealedHeaders'>;
export type TenantRow = Row<Tenant>;
export type ServerToolRow = Row<ServerTool, 'server'>;
export type ServerResourceRow = Row<ServerResource, 'server'>;
export type CircuitBreakerRow = Row<CircuitBreaker, 'server'>;

/** The order a server's tools are listed in, wherever they are read. */
export const TOOL_ORDER: QueryOrderMap<ServerTool> = { name: 'ASC' };
/** The order a server's resources are listed in, wherever they are read. */
export const RESOURCE_ORDER: QueryOrderMap<ServerResource> = { uriTemplate: 'ASC', id: 'ASC' };

export interface RegistryLoaders {
  /** Number of servers per tenant id, among those the viewer may see. */
  readonly serverCountByTenant: DataLoader<string, number>;
  readonly tenantById: DataLoader<string, TenantRow | null>;
  readonly toolsByServer: DataLoader<string, ServerToolRow[]>;
  readonly resourcesByServer: DataLoader<string, ServerResourceRow[]>;
  readonly promptsByServer: DataLoader<string, ServerPrompt[]>;
  readonly circuitBreakerByServer: DataLoader<string, CircuitBreakerRow | null>;
  /**
   * Relations a server page read with only the fields it selects of them (server-page.ts): tools and resources
   * by server id, tenants by their id, and breakers by server id as a list of at most one.
   */
  readonly listedTools: ListedRows<ServerToolRow>;
  readonly listedResources: ListedRows<ServerResourceRow>;
  readonly listedTenants: ListedRows<TenantRow>;
  readonly listedCircuitBreakers: ListedRows<CircuitBreakerRow>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends RegistryLoaders {}
}

export function createRegistryLoaders(em: EntityManager): RegistryLoaders {
  return {
    serverCountByTenant: countLoader(em, MCPServer, 'tenant'),
    tenantById: byIdLoader(em, Tenant),
    toolsByServer: manyLoader(em, ServerTool, 'server', TOOL_ORDER),
    resourcesByServer: manyLoader(em, ServerResource, 'server', RESOURCE_ORDER),
    promptsByServer: manyLoader(em, ServerPrompt, 'server', { name: 'ASC' }),
    circuitBreakerByServer: oneLoader(em, CircuitBreaker, 'server'),
    listedTools: new ListedRows(),
    listedResources: new ListedRows(),
    listedTenants: new ListedRows(),
    listedCircuitBreakers: new ListedRows(),
  };
}
