import { registerEnumType } from 'type-graphql';
import type { TenantScope } from '../db/tenant-scope.js';
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

/**
 * Who is calling: resolved from the API key, or from the access token of a signed-in user, once per request (or
 * once per websocket connection).
 */
export interface Viewer {
  /** Whose budgets and sockets these are: `key:<id>` for an API key, `user:<id>` for a token's user. */
  readonly principalId: string;
  /** The key; `null` for a user signed in with a token. */
  readonly apiKeyId: string | null;
  /** The key's tenant; `null` for platform keys, which are not bound to one tenant. */
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** The servers the key is limited to; `null` for every server of its tenant. */
  readonly allowedServers: ReadonlySet<string> | null;
  /** The key's request budgets; `null` for none. */
  readonly rateLimitPerHour: number | null;
  readonly rateLimitPerDay: number | null;
  /** When the key (or the token) stops working; `null` for never. */
  readonly expiresAt: Date | null;
  /**
   * Whether it manages its tenant's API keys and users: a key with WRITE, and a signed-in user whose role is
   * ADMIN. A signed-in USER or SERVICE holds WRITE for the registry, yet its role keeps keys and users from it.
   */
  readonly managesTenant: boolean;
}

/**
 * What the viewer's queries may reach, as the tenant filter every tenant-owned entity declares
 * (src/db/tenant-scope.ts): its tenant and allowed servers; `null` (no limit) for platform admins.
 */
export function tenantScopeOf(viewer: Viewer): TenantScope | null {
  if (isAdmin(viewer)) return null;
  const allowed = viewer.allowedServers;
  return { tenantId: viewer.tenantId, serverIds: allowed === null ? null : [...allowed] };
}

/**
 * Everything about a viewer that can change an answer: its tenant scope (tenant, allowed servers; none for
 * platform admins) and its scopes. Viewers with the same access scope key are shown the same data.
 */
export function accessScopeKey(viewer: Viewer): string {
  const scope = tenantScopeOf(viewer);
  return JSON.stringify([
    scope === null ? null : [scope.tenantId, scope.serverIds === null ? null : [...scope.serverIds].sort()],
    [...viewer.scopes].sort(),
  ]);
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

/**
 * Whether the viewer may see this server: its tenant's, and among the key's allowed servers. For what does not
 * come from the database (live events); queries are limited by the tenant scope (`tenantScopeOf`).
 */
export function canAccessServer(viewer: Viewer, server: { id: string; tenantId: string }): boolean {
  if (isAdmin(viewer)) return true;
  return viewer.tenantId === server.tenantId && (viewer.allowedServers?.has(server.id) ?? true);
}

/**
 * For what only a tenant or an admin may reach (users, keys, logs, analytics): a key without a tenant and
 * without ADMIN reaches nothing, and is told so rather than shown an empty list. Returns the tenant condition
 * for raw SQL (ORM queries are already inside the request's tenant scope).
 */
export function requireTenantScope(viewer: Viewer, what: string): { tenant?: string } {
  if (isAdmin(viewer)) return {};
  if (viewer.tenantId === null) throw forbidden(`A key without a tenant needs the ADMIN scope for ${what}.`);
  return { tenant: viewer.tenantId };
}

/**
 * For managing API keys and users (listing keys included): platform admins, and within a tenant whoever
 * `managesTenant`. Throws FORBIDDEN for anyone else.
 */
export function requireTenantManagement(viewer: Viewer, what: string): void {
  if (isAdmin(viewer) || viewer.managesTenant) return;
  throw forbidden(`Only a tenant's admins manage its ${what}: your role does not.`);
}

/**
 * For what shapes the calls of a whole tenant (routing rules, virtual servers): a key limited by
 * `allowedServers` may not change it, even towards its own servers, since it would decide for other keys.
 */
export function requireTenantWideKey(viewer: Viewer, what: string): void {
  if (viewer.allowedServers !== null) {
    throw forbidden(`This key is limited to some servers: ${what} apply to the whole tenant.`);
  }
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
