import { createHash } from 'node:crypto';
import type { OidcSettings } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { ApiKeyScope, type Viewer } from '../graphql/access.js';
import { isUuid } from '../graphql/validate.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User, UserRole } from '../users/user.entity.js';
import type { AuthFailureReason } from './auth-failure-audit.js';
import type { VerifiedToken } from './token-verifier.js';

/** The role claim value that makes a token's user a platform admin; no other value does. */
export const PLATFORM_ADMIN_ROLE = 'platform-admin';

const READER_SCOPES = [ApiKeyScope.READ, ApiKeyScope.HEALTH, ApiKeyScope.METRICS];
const WRITER_SCOPES = [...READER_SCOPES, ApiKeyScope.WRITE, ApiKeyScope.PROXY];
/**
 * What a token user's role may do. A tenant's ADMIN acts within its tenant like a USER, and besides manages its
 * keys and users (`managesTenant`); only platform admins hold the ADMIN scope.
 */
const ROLE_SCOPES: Readonly<Record<UserRole, readonly ApiKeyScope[]>> = {
  [UserRole.READONLY]: READER_SCOPES,
  [UserRole.USER]: WRITER_SCOPES,
  [UserRole.SERVICE]: WRITER_SCOPES,
  [UserRole.ADMIN]: WRITER_SCOPES,
};

/** Role claim values, strongest first: a token holding several gets the strongest. */
const ROLE_RANK: readonly UserRole[] = [UserRole.ADMIN, UserRole.SERVICE, UserRole.USER, UserRole.READONLY];

/** `lastLoginAt` is written at most once a minute per user, not on every request. */
const LAST_LOGIN_RESOLUTION_MS = 60_000;

export type TokenAdmission =
  | { readonly viewer: Viewer }
  | { readonly viewer?: undefined; readonly refusal: AuthFailureReason; readonly tenantId: string | null };

/**
 * The claim named `name`: a top-level claim of that name (claim names may be URLs, dots included), else the
 * value at that dotted path (`realm_access.roles`, as Keycloak nests roles).
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The roles a token's role claim holds: a string (space-separated values) or an array of strings. */
export function rolesOf(claim: unknown): { role: UserRole; platformAdmin: boolean } {
  const values = (Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [])
    .filter((value): value is string => typeof value === 'string')
    .map((value) => value.toLowerCase());
  if (values.includes(PLATFORM_ADMIN_ROLE)) return { role: UserRole.ADMIN, platformAdmin: true };
  // Least privilege for a token without a known role.
  const role = ROLE_RANK.find((candidate) => values.includes(candidate)) ?? UserRole.READONLY;
  return { role, platformAdmin: false };
}

/**
 * Turns a verified token into its viewer: the token's tenant (its tenant claim, by id or name), its user (found by
 * issuer and subject, created on first sight) and the scopes of its role. Refuses tokens of unknown tenants and
 * of deactivated users.
 */
export async function admitToken(
  em: EntityManager,
  settings: OidcSettings,
  token: VerifiedToken,
  now = new Date(),
): Promise<TokenAdmission> {
  // A fork: the user read and changed here stays out of the request's identity map.
  const users = em.fork();
  const { role, platformAdmin } = rolesOf(claimAt(token.claims, settings.roleClaim));
  const tenantId = platformAdmin ? null : await tenantOf(users, claimAt(token.claims, settings.tenantClaim));
  if (!platformAdmin && tenantId === null) return { refusal: 'unknown_tenant', tenantId: null };
  if (token.subject.length > 255) return { refusal: 'invalid_token', tenantId };

  const user = await findOrCreateUser(users, token, role, tenantId);
  if (user === null || !user.isActive || (user.tenant?.id ?? null) !== tenantId) {
    return { refusal: 'inactive_user', tenantId };
  }
  const loginIsStale =
    user.lastLoginAt === null || now.getTime() - user.lastLoginAt.getTime() >= LAST_LOGIN_RESOLUTION_MS;
  if (user.role !== role || loginIsStale) {
    // The provider is the source of the user's role: a change there shows here at the next token.
    await users.nativeUpdate(User, { id: user.id }, { role, lastLoginAt: now });
  }
  const scopes = platformAdmin ? [ApiKeyScope.ADMIN, ...ROLE_SCOPES[UserRole.ADMIN]] : ROLE_SCOPES[role];
  return {
    viewer: {
      principalId: `user:${user.id}`,
      apiKeyId: null,
      tenantId,
      userId: user.id,
      scopes: new Set(scopes),
      allowedServers: null,
      rateLimitPerHour: settings.rateLimitPerHour,
      rateLimitPerDay: settings.rateLimitPerDay,
      expiresAt: token.expiresAt,
      managesTenant: role === UserRole.ADMIN,
    },
  };
}

async function tenantOf(em: EntityManager, claim: unknown): Promise<string | null> {
  if (typeof claim !== 'string' || claim === '' || claim.length > 255) return null;
  const tenant = await em.findOne(Tenant, isUuid(claim) ? { id: claim } : { name: claim }, {
    fields: ['id'],
  });
  return tenant?.id ?? null;
}

/**
 * The token's user, inserted if it is new. Race-safe: concurrent first requests insert at most one row (the
 * unique index on issuer and subject) and all find it. When the token's username or email belongs to another
 * user already, the new user gets a username and email made unique by a digest of its issuer and subject.
 */
async function findOrCreateUser(
  em: EntityManager,
  token: VerifiedToken,
  role: UserRole,
  tenantId: string | null,
): Promise<User | null> {
  const identity = { authProvider: token.issuer, authProviderId: token.subject };
  const existing = await em.findOne(User, identity);
  if (existing !== null) return existing;
  const digest = createHash('sha256').update(`${token.issuer}\n${token.subject}`).digest('hex').slice(0, 12);
  // Stored lowercase, as createUser stores them, so one name or address cannot belong to two users.
  const named = (
    claimString(token.claims.preferred_username) ??
    claimString(token.claims.name) ??
    token.subject
  ).toLowerCase();
  const email = claimString(token.claims.email)?.toLowerCase();
  const attempts = [
    { username: named.slice(0, 100), email: email?.slice(0, 255) ?? `${digest}@users.invalid` },
    { username: `${named.slice(0, 87)}-${digest}`, email: `${digest}@users.invalid` },
  ];
  for (const attempt of attempts) {
    await em.execute(
      `insert into users (username, email, role, auth_provider, auth_provider_id, tenant_id)
       values (?, ?, ?, ?, ?, ?) on conflict do nothing`,
      [attempt.username, attempt.email, role, token.issuer, token.subject, tenantId],
    );
    const created = await em.findOne(User, identity);
    if (created !== null) return created;
  }
  return null;
}

function claimString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
