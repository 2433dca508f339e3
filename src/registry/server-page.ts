import { type QueryOrderMap, raw } from '@mikro-orm/core';
import type { QueryBuilder } from '@mikro-orm/postgresql';
import {
  type JsonRowFormat,
  jsonRowFormat,
  referencedRowSql,
  relatedRowSql,
  relatedRowsSql,
} from '../db/json-rows.js';
import type { EntityManager } from '../db/orm.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { CircuitBreaker } from './circuit-breaker.entity.js';
import { MCPServer } from './mcp-server.entity.js';
import {
  type CircuitBreakerRow,
  RESOURCE_ORDER,
  type RegistryLoaders,
  type ServerResourceRow,
  type ServerRow,
  type ServerToolRow,
  type TenantRow,
  TOOL_ORDER,
} from './registry.loaders.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';

/** The relations of each server a page reads along with it: the ones the request selects. */
export interface ServerPageRelations {
  readonly tenant: boolean;
  readonly circuitBreaker: boolean;
  readonly tools: boolean;
  readonly resources: boolean;
}

/** One statement's result row: the server and the relations asked for, as JSON PostgreSQL built. */
interface PageRow {
  server: Record<string, unknown>;
  tenant?: Record<string, unknown> | null;
  circuit_breaker?: Record<string, unknown> | null;
  tools?: Record<string, unknown>[];
  resources?: Record<string, unknown>[];
}

interface RowFormats {
  readonly server: JsonRowFormat<ServerRow>;
  readonly tenant: JsonRowFormat<TenantRow>;
  readonly circuitBreaker: JsonRowFormat<CircuitBreakerRow>;
  readonly tool: JsonRowFormat<ServerToolRow>;
  readonly resource: JsonRowFormat<ServerResourceRow>;
}

function formatsFor(em: EntityManager): RowFormats {
  return {
    server: jsonRowFormat(em, MCPServer),
    tenant: jsonRowFormat(em, Tenant),
    circuitBreaker: jsonRowFormat(em, CircuitBreaker),
    tool: jsonRowFormat(em, ServerTool),
    resource: jsonRowFormat(em, ServerResource),
  };
}

/**
 * Reads the servers `page` selects (a query builder over MCPServer, filtered, ordered by `order` and limited)
 * in one statement, with the relations in `relations` aggregated as JSON next to each server, as plain rows:
 * a list page changes nothing, so nothing on it becomes a managed entity. The relations go into the request's
 * loaders, where the field resolvers find them without another statement.
 *
 * Tenant scoping: `page` carries the request's filters; the relations read here all belong to a server on it.
 */
export async function readServerPage(
  em: EntityManager,
  loaders: RegistryLoaders,
  page: QueryBuilder<MCPServer>,
  order: QueryOrderMap<MCPServer>,
  relations: ServerPageRelations,
): Promise<ServerRow[]> {
  const formats = formatsFor(em);
  const tenantProperty = em.getMetadata().get(MCPServer).properties.tenant;
  // JSON is built over the page's rows only: selected next to the filter, PostgreSQL would build it for
  // every matching row before sorting and cutting the page.
  const alias = 'page';
  const columns = [raw(`${formats.server.objectSql(alias)} as server`)];
  if (relations.tenant) {
    columns.push(raw(`${referencedRowSql(em, Tenant, formats.tenant, alias, tenantProperty)} as tenant`));
  }
  if (relations.circuitBreaker) {
    const breaker = relatedRowSql(em, CircuitBreaker, formats.circuitBreaker, 'server', alias);
    columns.push(raw(`${breaker} as circuit_breaker`));
  }
  if (relations.tools) {
    const tools = relatedRowsSql(em, ServerTool, formats.tool, 'server', TOOL_ORDER, alias);
    columns.push(raw(`${tools} as tools`));
  }
  if (relations.resources) {
    const resources = relatedRowsSql(em, ServerResource, formats.resource, 'server', RESOURCE_ORDER, alias);
    columns.push(raw(`${resources} as resources`));
  }
  const rows: PageRow[] = await em
    .createQueryBuilder(MCPServer)
    .from(page, alias)
    .select(columns)
    .orderBy(order)
    .execute('all', false);

  return rows.map((row) => {
    const server = formats.server.read(row.server);
    if (row.tenant !== undefined) {
      const tenant = row.tenant === null ? null : formats.tenant.read(row.tenant);
      loaders.tenantById.prime(server.tenant.id, tenant);
    }
    if (row.circuit_breaker !== undefined) {
      const breaker = row.circuit_breaker === null ? null : formats.circuitBreaker.read(row.circuit_breaker);
      loaders.circuitBreakerByServer.prime(server.id, breaker);
    }
    if (row.tools !== undefined) {
      loaders.toolsByServer.prime(
        server.id,
        row.tools.map((tool) => formats.tool.read(tool)),
      );
    }
    if (row.resources !== undefined) {
      loaders.resourcesByServer.prime(
        server.id,
        row.resources.map((resource) => formats.resource.read(resource)),
      );
    }
    return server;
  });
}
