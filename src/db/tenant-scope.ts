import type { Dictionary, Filter, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from './orm.js';
import { placeholders, type SqlCondition } from './sql-condition.js';

/** The name of the filter every tenant-owned entity declares. */
export const TENANT_SCOPE = 'tenantScope';

/** What `@Filter` takes (MikroORM does not export the type by name). */
type FilterDefinition = Parameters<typeof Filter>[0];

/** What one request may reach: the rows of one tenant (`null`: of no tenant), and maybe only some servers. */
export interface TenantScope {
  readonly tenantId: string | null;
  /** The servers the request is limited to; `null` for every server of the tenant. */
  readonly serverIds: readonly string[] | null;
}

/**
 * The tenant filter of an entity, given how its rows belong to a tenant. It is on for every query, and does
 * nothing on an EntityManager without a scope (platform admins, background work): `scopeToTenant` gives a
 * tenant's request its scope, and from then on every `find`, `count`, `populate`, `nativeUpdate` and
 * `nativeDelete` of that EntityManager and its forks sees only rows inside it. Query builders take it with
 * `applyFilters()`; raw SQL scopes itself.
 */
export function tenantScoped<T>(condition: (scope: TenantScope) => FilterQuery<T>): FilterDefinition {
  return {
    name: TENANT_SCOPE,
    default: true,
    // Without parameters the condition is empty rather than an error: unscoped EntityManagers see everything.
    args: false,
    cond: (params: Dictionary | undefined) =>
      params === undefined ? {} : (condition(params as TenantScope) as Dictionary),
  };
}

/** Limits everything `em` (and what is forked from it) reads or changes to `scope`; `null` limits nothing. */
export function scopeToTenant(em: EntityManager, scope: TenantScope | null): void {
  if (scope !== null) em.setFilterParams(TENANT_SCOPE, scope);
}

/** The scope `scopeToTenant` gave `em` (or what it was forked from); `null` when it has none. */
export function tenantScopeIn(em: EntityManager): TenantScope | null {
  const scope: Partial<TenantScope> | undefined = em.getFilterParams<Partial<TenantScope>>(TENANT_SCOPE);
  if (scope === undefined) return null;
  // Set only by scopeToTenant; anything else must not read as "no scope" (that would reach every tenant).
  if (scope.tenantId === undefined || scope.serverIds === undefined)
    throw new Error('the tenant scope of an EntityManager is malformed');
  return scope as TenantScope;
}

/** The condition for rows that belong to a server: inside the scope when their server is. */
export function serverInScope(scope: TenantScope): Dictionary {
  return {
    server: {
      tenant: scope.tenantId,
      ...(scope.serverIds === null ? {} : { id: { $in: [...scope.serverIds] } }),
    },
  };
}

/**
 * The scope as a condition of a raw SQL statement over a tenant-owned table whose rows are servers or name
 * one (`tenant` and `server` are its quoted column references), the rule MCPServer's filter states for the
 * ORM: `?` placeholders, their values in order. For statements on a hot path that skip the query builder.
 */
export function scopeConditionSql(
  scope: TenantScope,
  columns: { readonly tenant: string; readonly server: string },
): SqlCondition {
  const tenant =
    scope.tenantId === null
      ? { sql: `${columns.tenant} is null`, values: [] }
      : { sql: `${columns.tenant} = ?`, values: [scope.tenantId] };
  if (scope.serverIds === null) return tenant;
  // No server at all is in an empty scope.
  if (scope.serverIds.length === 0) return { sql: `${tenant.sql} and false`, values: tenant.values };
  return {
    sql: `${tenant.sql} and ${columns.server} in (${placeholders(scope.serverIds)})`,
    values: [...tenant.values, ...scope.serverIds],
  };
}
