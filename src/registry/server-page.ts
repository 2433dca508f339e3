import { type QueryOrderMap, raw } from '@mikro-orm/core';
import type { QueryBuilder } from '@mikro-orm/postgresql';
import {
  type RowFormat,
  referencedRowSql,
  relatedRowSql,
  relatedRowsSql,
  rowFormat,
} from '../db/json-rows.js';
import type { ListedRows } from '../db/loaders.js';
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

/** One statement's result row: the server's columns, and the relations asked for as JSON rows (json-rows). */
interface PageRow extends Record<string, unknown> {
  [TENANT]?: unknown[] | null;
  [CIRCUIT_BREAKER]?: unknown[] | null;
  [TOOLS]?: unknown[][];
  [RESOURCES]?: unknown[][];
}

// Result columns of the relations, named so that no column of a server can take their place.
const TENANT = '$tenant';
const CIRCUIT_BREAKER = '$circuitBreaker';
const TOOLS = '$tools';
const RESOURCES = '$resources';

interface RowFormats {
  readonly server: RowFormat<ServerRow>;
  readonly tenant: RowFormat<TenantRow>;
  readonly circuitBreaker: RowFormat<CircuitBreakerRow>;
  readonly tool: RowFormat<ServerToolRow>;
  readonly resource: RowFormat<ServerResourceRow>;
}

function formatsFor(em: EntityManager): RowFormats {
  return {
    server: rowFormat(em, MCPServer),
    tenant: rowFormat(em, Tenant),
    circuitBreaker: rowFormat(em, CircuitBreaker),
    tool: rowFormat(em, ServerTool),
    resource: rowFormat(em, ServerResource),
  };
}

/**
 * What a request selects of each server on a page (GraphQL field names), and of its relations: their plain
 * fields, or null when a field with a resolver of its own is among them (it gets whole rows).
 */
export interface ServerPageSelection {
  readonly server: ReadonlySet<string>;
  readonly tenant: ReadonlySet<string> | null;
  readonly circuitBreaker: ReadonlySet<string> | null;
  readonly tools: ReadonlySet<string> | null;
  readonly resources: ReadonlySet<string> | null;
}

/**
 * Reads the servers `page` selects (a query builder over MCPServer, filtered, ordered by `order` and limited)
 * in one statement, with the relations `selection.server` names (tenant, circuitBreaker, tools, resources)
 * aggregated as JSON next to each server, as plain rows: a list page changes nothing, so nothing on it becomes a
 * managed entity. The relations go into the request's loaders, where the field resolvers find them without
 * another statement. Each relation carries only the columns the request selects of it (a tool's input schema is
 * most of its bytes, and a page without it should not build, send and parse it); such narrow rows are listed
 * apart (`listed…`), and whole rows, when a selection needs more than columns, primed into the shared loaders.
 *
 * Tenant scoping: `page` carries the request's filters; the relations read here all belong to a server on it.
 */
export async function readServerPage(
  em: EntityManager,
  loaders: RegistryLoaders,
  page: QueryBuilder<MCPServer>,
  order: QueryOrderMap<MCPServer>,
  selection: ServerPageSelection,
): Promise<ServerRow[]> {
  const formats = formatsFor(em);
  const fields = selection.server;
  const tenantFormat = narrowed(formats.tenant, selection.tenant);
  const breakerFormat = narrowed(formats.circuitBreaker, selection.circuitBreaker);
  const toolFormat = narrowed(formats.tool, selection.tools);
  const resourceFormat = narrowed(formats.resource, selection.resources);
  const tenantProperty = em.getMetadata().get(MCPServer).properties.tenant;
  // Columns and JSON are computed for the page's rows only: selected next to the filter, PostgreSQL would
  // build them for every matching row before sorting and cutting the page.
  const alias = 'page';
  // A server's columns as selected, and what the page itself reads: its tenant (for the tenant field) and the
  // order's columns (for cursors). MCPServer's field resolvers read nothing of their root but `id` and `tenant`.
  const serverColumns = [...fields].filter((name) => formats.server.properties.has(name));
  const serverFormat =
    formats.server.subset(new Set([...serverColumns, 'tenant', ...Object.keys(order)])) ?? formats.server;
  const columns = [raw(serverFormat.columnsSql(alias))];
  if (fields.has('tenant')) {
    const tenant = referencedRowSql(tenantFormat ?? formats.tenant, alias, tenantProperty);
    columns.push(raw(`${tenant} as "${TENANT}"`));
  }
  if (fields.has('circuitBreaker')) {
    const breaker = relatedRowSql<CircuitBreaker>(breakerFormat ?? formats.circuitBreaker, 'server', alias);
    columns.push(raw(`${breaker} as "${CIRCUIT_BREAKER}"`));
  }
  if (fields.has('tools')) {
    const tools = relatedRowsSql<ServerTool>(toolFormat ?? formats.tool, 'server', TOOL_ORDER, alias);
    columns.push(raw(`${tools} as "${TOOLS}"`));
  }
  if (fields.has('resources')) {
    const resources = relatedRowsSql<ServerResource>(
      resourceFormat ?? formats.resource,
      'server',
      RESOURCE_ORDER,
      alias,
    );
    columns.push(raw(`${resources} as "${RESOURCES}"`));
  }
  const rows: PageRow[] = await em
    .createQueryBuilder(MCPServer)
    .from(page, alias)
    .select(columns)
    .orderBy(order)
    .execute('all', false);

  return rows.map((row) => {
    const {
      [TENANT]: tenant,
      [CIRCUIT_BREAKER]: breaker,
      [TOOLS]: tools,
      [RESOURCES]: resources,
      ...columns
    } = row;
    // The columns the request reads, by the rule above: a list page's server is no more than that.
    const server = serverFormat.read(columns) as ServerRow;
    if (tenant !== undefined) {
      keepRows(
        tenant === null ? [] : [tenant],
        formats.tenant,
        tenantFormat,
        loaders.listedTenants,
        server.tenant.id,
        (rows) => loaders.tenantById.prime(server.tenant.id, rows[0] ?? null),
      );
    }
    if (breaker !== undefined) {
      keepRows(
        breaker === null ? [] : [breaker],
        formats.circuitBreaker,
        breakerFormat,
        loaders.listedCircuitBreakers,
        server.id,
        (rows) => loaders.circuitBreakerByServer.prime(server.id, rows[0] ?? null),
      );
    }
    if (tools !== undefined) {
      keepRows(tools, formats.tool, toolFormat, loaders.listedTools, server.id, (rows) =>
        loaders.toolsByServer.prime(server.id, rows),
      );
    }
    if (resources !== undefined) {
      keepRows(resources, formats.resource, resourceFormat, loaders.listedResources, server.id, (rows) =>
        loaders.resourcesByServer.prime(server.id, rows),
      );
    }
    return server;
  });
}

/** The format over the selected columns only, or null when whole rows are needed. */
function narrowed<R>(
  format: RowFormat<R>,
  selected: ReadonlySet<string> | null,
): RowFormat<Partial<R>> | null {
  return selected === null ? null : format.subset(selected);
}

/**
 * One relation's rows of a server as read (each a JSON array of its values): whole rows are primed into the
 * loader other readers share, narrow ones (only the selected columns) listed apart, where only this request's
 * resolvers look for them.
 */
function keepRows<R>(
  values: readonly unknown[][],
  whole: RowFormat<R>,
  narrow: RowFormat<Partial<R>> | null,
  listed: ListedRows<R>,
  key: string,
  prime: (rows: R[]) => void,
): void {
  if (narrow === null) prime(values.map((row) => whole.readValues(row)));
  else
    listed.set(
      key,
      narrow.properties,
      values.map((row) => narrow.readValues(row)),
    );
}
