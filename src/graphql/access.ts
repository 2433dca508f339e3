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
}

/** A key with the ADMIN scope administers the whole platform: every tenant, users and keys. */
export function isAdmin(viewer: Viewer): boolean {
  return viewer.scopes.has(ApiKeyScope.ADMIN);
}

/** Returns the viewer when it holds `scope` (ADMIN implies every scope); throws otherwise. */
export function requireScope(viewer: Viewer | null, scope: ApiKeyScope): Viewer {
  if (viewer === null) throw unauthenticated();
  if (!viewer.scopes.has(scope) && !isAdmin(viewer)) {
    throw forbidden(`This operation needs an API key with the ${scope.toUpperCase()} scope.`);
  }
  return viewer;
}

/**
 * The tenant a request acts on: its own for tenant keys; a platform admin may name any tenant (or none,
 * meaning all tenants). A tenant key naming another tenant gets FORBIDDEN for writes; reads treat it as
 * not found so no existence leaks.
 */
export function canAccessTenant(viewer: Viewer, tenantId: string | null): boolean {
  return isAdmin(viewer) || (tenantId !== null && viewer.tenantId === tenantId);
}
