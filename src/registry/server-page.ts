import type { EntityMetadata } from '@mikro-orm/core';
import {
  columnSql,
  type RowFormat,
  referencedRowSql,
  relatedRowSql,
  relatedRowsSql,
  rowFormat,
} from '../db/json-rows.js';
import type { ListedRows } from '../db/loaders.js';
import type { EntityManager } from '../db/orm.js';
import { readRows } from '../db/raw-rows.js';
import { numberOf } from '../db/raw-values.js';
import { type SqlCondition, whereSql } from '../db/sql-condition.js';
import { scopeConditionSql, tenantScopeIn } from '../db/tenant-scope.js';
import { keysetOrderSql, type SortDirection } from '../graphql/pagination.js';
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

/** The alias conditions of a server page refer to a server by (`s.name`): the servers' table, before the page. */
export const SERVER_ALIAS = 's';
// The page's rows once cut, that the relations and the result's columns are computed for.
const PAGE_ALIAS = 'page';

/** The column of a server's property under SERVER_ALIAS, for conditions on it (names from the metadata). */
export function serverColumnSql(em: EntityManager, property: keyof MCPServer & string): string {
  return columnSql(SERVER_ALIAS, em.getMetadata().get(MCPServer).properties[property]);
}

/** Which servers a page shows: the conditions they match (over SERVER_ALIAS), in which order, how many. */
export interface ServerPageQuery {
  readonly conditions: readonly SqlCondition[];
  readonly order: { readonly field: keyof MCPServer & string; readonly direction: SortDirection };
  readonly limit: number;
}

/**
 * Reads the servers `page` selects in one statement, with the relations `selection.server` names (tenant,
 * circuitBreaker, tools, resources) aggregated as JSON next to each server, as plain rows: a list page changes
 * nothing, so nothing on it becomes a managed entity. The relations go into the request's loaders, where the
 * field resolvers find them without another statement. Each relation carries only the columns the request
 * selects of it (a tool's input schema is most of its bytes, and a page without it should not build, send and
 * parse it); such narrow rows are listed apart (`listed…`), and whole rows, when a selection needs more than
 * columns, primed into the shared loaders.
 *
 * A plain statement, no query builder (this is the contract's list page): its text up to the conditions is
 * built once per ORM's metadata and selection. Tenant scoping: the statement applies the scope of `em` itself
 * (`serverScope`); the relations read here all belong to a server on the page.
 */
export async function readServerPage(
  em: EntityManager,
  loaders: RegistryLoaders,
  page: ServerPageQuery,
  selection: ServerPageSelection,
): Promise<ServerRow[]> {
  const statement = pageStatement(em, page.order.field, selection);
  const where = whereSql([...serverScope(em), ...page.conditions]);
  const meta = em.getMetadata().get(MCPServer);
  const orderOver = (alias: string) =>
    keysetOrderSql(
      { sort: columnSql(alias, meta.properties[page.order.field]), id: columnSql(alias, meta.properties.id) },
      page.order.direction,
    );
  const rows = await readRows<PageRow>(
    em,
    `${statement.select}${where.sql} order by ${orderOver(SERVER_ALIAS)} limit ?) as "${PAGE_ALIAS}" ` +
      `order by ${orderOver(PAGE_ALIAS)}`,
    [...where.values, page.limit],
  );
  const {
    tenant: tenantRead,
    circuitBreaker: breakerRead,
    tools: toolsRead,
    resources: resourcesRead,
  } = statement;
  return rows.map((row) => {
    const { [TENANT]: tenant, [CIRCUIT_BREAKER]: breaker, [TOOLS]: tools, [RESOURCES]: resources } = row;
    // The columns the request reads, by the rule above: a list page's server is no more than that.
    const server = statement.server.read(row) as ServerRow;
    if (tenantRead !== null && tenant !== undefined) {
      keepRows(tenant === null ? [] : [tenant], tenantRead, loaders.listedTenants, server.tenant.id, (rows) =>
        loaders.tenantById.prime(server.tenant.id, rows[0] ?? null),
      );
    }
    if (breakerRead !== null && breaker !== undefined) {
      keepRows(
        breaker === null ? [] : [breaker],
        breakerRead,
        loaders.listedCircuitBreakers,
        server.id,
        (rows) => loaders.circuitBreakerByServer.prime(server.id, rows[0] ?? null),
      );
    }
    if (toolsRead !== null && tools !== undefined) {
      keepRows(tools, toolsRead, loaders.listedTools, server.id, (rows) =>
        loaders.toolsByServer.prime(server.id, rows),
      );
    }
    if (resourcesRead !== null && resources !== undefined) {
      keepRows(resources, resourcesRead, loaders.listedResources, server.id, (rows) =>
        loaders.resourcesByServer.prime(server.id, rows),
      );
    }
    return server;
  });
}

/** How many servers match `conditions` (over SERVER_ALIAS) inside the scope of `em`: one plain statement. */
export async function countServers(em: EntityManager, conditions: readonly SqlCondition[]): Promise<number> {
  const meta = em.getMetadata().get(MCPServer);
  const where = whereSql([...serverScope(em), ...conditions]);
  const [row] = await readRows<{ count: unknown }>(
    em,
    `select count(*) as "count" from "${meta.tableName}" as "${SERVER_ALIAS}"${where.sql}`,
    where.values,
  );
  return numberOf(row?.count);
}

/** The scope of `em` (tenant-scope.ts) as conditions on the servers: the rule of MCPServer's filter. */
function serverScope(em: EntityManager): SqlCondition[] {
  const scope = tenantScopeIn(em);
  if (scope === null) return [];
  return [
    scopeConditionSql(scope, { tenant: serverColumnSql(em, 'tenant'), server: serverColumnSql(em, 'id') }),
  ];
}

/**
 * How a page reads one relation it selects: as whole rows (`narrow` null: a selected field needs more than
 * columns), or only the selected columns.
 */
interface RelationRead<R> {
  readonly whole: RowFormat<R>;
  readonly narrow: RowFormat<Partial<R>> | null;
}

/** The page statement's text up to its conditions, and how its rows are read (null: a relation not selected). */
interface PageStatement {
  readonly select: string;
  readonly server: RowFormat<Partial<ServerRow>>;
  readonly tenant: RelationRead<TenantRow> | null;
  readonly circuitBreaker: RelationRead<CircuitBreakerRow> | null;
  readonly tools: RelationRead<ServerToolRow> | null;
  readonly resources: RelationRead<ServerResourceRow> | null;
}

// Built once per ORM's metadata (it does not change while it runs) and selection shape: there are a handful.
const statements = new WeakMap<EntityMetadata<MCPServer>, Map<string, PageStatement>>();

function pageStatement(
  em: EntityManager,
  sortField: keyof MCPServer & string,
  selection: ServerPageSelection,
): PageStatement {
  const fields = selection.server;
  const relation = <R>(field: string, whole: RowFormat<R>, selected: ReadonlySet<string> | null) =>
    fields.has(field) ? { whole, narrow: selected === null ? null : whole.subset(selected) } : null;
  const serverFormat = rowFormat<ServerRow>(em, MCPServer);
  // A server's columns as selected, and what the page itself reads: its tenant (for the tenant field) and the
  // sort field (for cursors). MCPServer's field resolvers read nothing of their root but `id` and `tenant`.
  const serverColumns = [...fields].filter((name) => serverFormat.properties.has(name));
  const shape: Omit<PageStatement, 'select'> = {
    server: serverFormat.subset(new Set([...serverColumns, 'tenant', sortField])) ?? serverFormat,
    tenant: relation('tenant', rowFormat<TenantRow>(em, Tenant), selection.tenant),
    circuitBreaker: relation(
      'circuitBreaker',
      rowFormat<CircuitBreakerRow>(em, CircuitBreaker),
      selection.circuitBreaker,
    ),
    tools: relation('tools', rowFormat<ServerToolRow>(em, ServerTool), selection.tools),
    resources: relation('resources', rowFormat<ServerResourceRow>(em, ServerResource), selection.resources),
  };
  const { server, tenant, circuitBreaker, tools, resources } = shape;
  const key = [columnsKey(server), ...[tenant, circuitBreaker, tools, resources].map(readKey)].join('|');
  const meta = em.getMetadata().get(MCPServer);
  let byShape = statements.get(meta);
  if (byShape === undefined) {
    byShape = new Map();
    statements.set(meta, byShape);
  }
  let statement = byShape.get(key);
  if (statement === undefined) {
    statement = { ...shape, select: selectSql(em, shape) };
    byShape.set(key, statement);
  }
  return statement;
}

/** A format's columns in order: which of its entity's formats it is. */
function columnsKey(format: RowFormat<unknown>): string {
  return [...format.properties].join(',');
}

function readKey(read: RelationRead<unknown> | null): string {
  if (read === null) return '-';
  return read.narrow === null ? '*' : columnsKey(read.narrow);
}

/**
 * `select <the page's columns and relations> from (select <servers> …`, up to the conditions. Columns and JSON
 * are computed for the page's rows only: selected next to the conditions, PostgreSQL would build them for every
 * matching row before sorting and cutting the page.
 */
function selectSql(em: EntityManager, shape: Omit<PageStatement, 'select'>): string {
  const meta = em.getMetadata().get(MCPServer);
  const format = <R>(read: RelationRead<R>): RowFormat<unknown> => read.narrow ?? read.whole;
  const columns = [shape.server.columnsSql(PAGE_ALIAS)];
  if (shape.tenant !== null) {
    const tenant = referencedRowSql(format(shape.tenant), PAGE_ALIAS, meta.properties.tenant);
    columns.push(`${tenant} as "${TENANT}"`);
  }
  if (shape.circuitBreaker !== null) {
    const breaker = relatedRowSql<CircuitBreaker>(format(shape.circuitBreaker), 'server', PAGE_ALIAS);
    columns.push(`${breaker} as "${CIRCUIT_BREAKER}"`);
  }
  if (shape.tools !== null) {
    const tools = relatedRowsSql<ServerTool>(format(shape.tools), 'server', TOOL_ORDER, PAGE_ALIAS);
    columns.push(`${tools} as "${TOOLS}"`);
  }
  if (shape.resources !== null) {
    const resources = relatedRowsSql<ServerResource>(
      format(shape.resources),
      'server',
      RESOURCE_ORDER,
      PAGE_ALIAS,
    );
    columns.push(`${resources} as "${RESOURCES}"`);
  }
  const servers = `"${meta.tableName}" as "${SERVER_ALIAS}"`;
  return `select ${columns.join(', ')} from (select "${SERVER_ALIAS}".* from ${servers}`;
}

/**
 * One relation's rows of a server as read (each a JSON array of its values): whole rows are primed into the
 * loader other readers share, narrow ones (only the selected columns) listed apart, where only this request's
 * resolvers look for them.
 */
function keepRows<R>(
  values: readonly unknown[][],
  read: RelationRead<R>,
  listed: ListedRows<R>,
  key: string,
  prime: (rows: R[]) => void,
): void {
  const { whole, narrow } = read;
  if (narrow === null) prime(values.map((row) => whole.readValues(row)));
  else
    listed.set(
      key,
      narrow.properties,
      values.map((row) => narrow.readValues(row)),
    );
}
