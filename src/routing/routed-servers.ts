import type { EntityMetadata } from '@mikro-orm/core';
import { columnSql, relatedRowSql, rowFormat } from '../db/json-rows.js';
import type { EntityManager } from '../db/orm.js';
import { readRows } from '../db/raw-rows.js';
import { parsedJson } from '../db/raw-values.js';
import { placeholders, whereSql } from '../db/sql-condition.js';
import { scopeConditionSql, tenantScopeIn } from '../db/tenant-scope.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import type { CircuitBreakerRow } from '../registry/registry.loaders.js';

// The servers a tool call may go to, as routing decides on them and the call opens them: their live figures,
// their stored headers and their circuit breaker, read in one statement as plain rows (nothing of it is changed
// through the unit of work: outcomes go through call-figures.ts and the breaker's own transaction).

/** What routing and the call read of a server. */
type RoutedColumns = Pick<
  MCPServer,
  'id' | 'endpointUrl' | 'transportType' | 'healthStatus' | 'activeConnections' | 'avgResponseTime'
>;

/**
 * A server a call may go to, as read here: with its sealed headers as stored (opened only for the server that
 * is called), and its breaker (null when it has none).
 */
export interface RoutedServer extends Readonly<RoutedColumns> {
  readonly sealedHeaders: unknown;
  readonly breaker: CircuitBreakerRow | null;
}

const COLUMNS: ReadonlySet<string> = new Set<keyof RoutedColumns>([
  'id',
  'endpointUrl',
  'transportType',
  'healthStatus',
  'activeConnections',
  'avgResponseTime',
]);
// Result columns of what is not a server column of the row format, named apart from the server's.
const SEALED_HEADERS = '$sealedHeaders';
const BREAKER = '$breaker';

/** The statement's text up to its conditions, built once per ORM's metadata (it does not change while it runs). */
const selects = new WeakMap<EntityMetadata<MCPServer>, string>();

/**
 * The servers among `serverIds` that the request's scope reaches, in the order given, with their headers and
 * breakers: one plain statement (no query builder: this is on every tool call's path). Tenant scoping: the
 * statement applies the scope of `em` (tenant-scope.ts) itself, the same condition as MCPServer's filter; the
 * breaker subquery reads the breaker of a server in scope.
 */
export async function routedServers(
  em: EntityManager,
  serverIds: readonly string[],
): Promise<RoutedServer[]> {
  if (serverIds.length === 0) return [];
  const server = rowFormat<RoutedColumns>(em, MCPServer).subset(COLUMNS);
  if (server === null) throw new Error('a routed column of MCPServer is not a column');
  const breaker = rowFormat<CircuitBreakerRow>(em, CircuitBreaker);
  const meta = em.getMetadata().get(MCPServer);
  let select = selects.get(meta);
  if (select === undefined) {
    select =
      `select ${server.columnsSql(ALIAS)}, ${columnSql(ALIAS, meta.properties.sealedHeaders)} ` +
      `as "${SEALED_HEADERS}", ` +
      `${relatedRowSql<CircuitBreaker>(breaker, 'server', ALIAS)} as "${BREAKER}" ` +
      `from "${meta.tableName}" as "${ALIAS}"`;
    selects.set(meta, select);
  }
  const ids = columnSql(ALIAS, meta.properties.id);
  const scope = tenantScopeIn(em);
  const where = whereSql([
    { sql: `${ids} in (${placeholders(serverIds)})`, values: serverIds },
    ...(scope === null
      ? []
      : [scopeConditionSql(scope, { tenant: columnSql(ALIAS, meta.properties.tenant), server: ids })]),
  ]);
  const rows = await readRows<Record<string, unknown>>(em, `${select}${where.sql}`, where.values);
  const byId = new Map<string, RoutedServer>();
  for (const row of rows) {
    // Every column of RoutedColumns was selected (the subset above): the row has them all.
    const read = server.read(row) as RoutedColumns;
    const stored = parsedJson(row[BREAKER]) as unknown[] | null;
    byId.set(read.id, {
      ...read,
      sealedHeaders: parsedJson(row[SEALED_HEADERS]) ?? null,
      breaker: stored === null ? null : breaker.readValues(stored),
    });
  }
  return serverIds.flatMap((serverId) => byId.get(serverId) ?? []);
}

const ALIAS = 's';
