import { registerEnumType } from 'type-graphql';
import { forbidden, unauthenticated } from './errors.js';

/** What an API key may do. Every operation declares the scope it needs. */
export enum ApiKeyScope {
  READ = 'read',
  WRITE = 'write',
  ADMIN = 'admin',
  PROXY = 'proxy',
  METRICS = 'metrics',
  HEALTH = 'health',
}

registerEnumType(ApiKeyScope, { name: 'ApiKeyScope', description: 'What an API key may do.' });

/** Who is calling: resolved from the API key once per request (or once per websocket connection). */
export interface Viewer {
  readonly apiKeyId: string;
  /** The key's tenant; `null` for platform keys, which are not bound to one tenant. */
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** The servers the key is limited to; `null` for every server of its tenant. */
  readonly allowedServers: ReadonlySet<string> | null;
  /** The key's request budgets; `null` for none. */
  readonly rateLimitPerHour: number | null;
  readonly rateLimitPerDay: number | null;
  /** When the key stops working; `null` for never. */
  readonly expiresAt: Date | null;
}

/** A key with the ADMIN scope administers the whole platform: every tenant, users and keys. */
export function isAdmin(viewer: Viewer): boolean {
  return viewer.scopes.has(ApiKeyScope.ADMIN);
}

/** Returns the viewer when it holds one of `scopes` (ADMIN implies every scope); throws otherwise. */
export function requireAnyScope(viewer: Viewer | null, scopes: readonly ApiKeyScope[]): Viewer {
  if (viewer === null) throw unauthenticated();
  if (scopes.length === 0 || isAdmin(viewer) || scopes.some((scope) => viewer.scopes.has(scope)))
    return viewer;
  const needed = scopes.map((scope) => scope.toUpperCase()).join(' or ');
  throw forbidden(`This operation needs an API key with the ${needed} scope.`);
}

/** Whether the viewer may see data of `tenantId`: platform admins see every tenant, others only their own. */
export function canAccessTenant(viewer: Viewer, tenantId: string): boolean {
  return isAdmin(viewer) || viewer.tenantId === tenantId;
}

/**
 * The filter that limits a query of tenant-owned rows to what the viewer may see. Another tenant's rows
 * are simply absent, so ids of other tenants answer NOT_FOUND rather than FORBIDDEN: no existence leaks.
 */
export function tenantFilter(viewer: Viewer): { tenant?: string | null } {
  return isAdmin(viewer) ? {} : { tenant: viewer.tenantId };
}

/** Whether the viewer may see or touch this server: its tenant's, and among the key's allowed servers. */
export function canAccessServer(viewer: Viewer, server: { id: string; tenantId: string }): boolean {
  return canAccessTenant(viewer, server.tenantId) && (viewer.allowedServers?.has(server.id) ?? true);
}

/** `tenantFilter` for servers: also limited to the key's allowed servers, when it has a list. */
export function serverFilter(viewer: Viewer): { tenant?: string | null; id?: { $in: string[] } } {
  const allowed = viewer.allowedServers;
  return { ...tenantFilter(viewer), ...(allowed === null ? {} : { id: { $in: [...allowed] } }) };
}

/**
 * Like `tenantFilter`, for what only a tenant or an admin may reach (users, keys, logs, analytics): a key
 * without a tenant and without ADMIN reaches nothing, and is told so rather than shown an empty list.
 */
export function requireTenantScope(viewer: Viewer, what: string): { tenant?: string } {
  if (isAdmin(viewer)) return {};
  if (viewer.tenantId === null) throw forbidden(`A key without a tenant needs the ADMIN scope for ${what}.`);
  return { tenant: viewer.tenantId };
}

/**
 * type-graphql's auth checker: `@Authorized(ApiKeyScope.X)` on a query, mutation or field requires scope X
 * (any of them, if several are listed). Throws rather than returning false so the client gets a message
 * that names the missing scope.
 */
// An arrow function on purpose: type-graphql instantiates a checker that has a prototype as a class.
export const scopeAuthChecker = (
  { context }: { context: { viewer: Viewer | null } },
  scopes: readonly ApiKeyScope[],
): boolean => {
  requireAnyScope(context.viewer, scopes);
  return true;
};

/** The authenticated viewer of a request; resolvers guarded by `@Authorized` always have one. */
export function viewerOf(context: { viewer: Viewer | null }): Viewer {
  if (context.viewer === null) throw unauthenticated();
  return context.viewer;
}
