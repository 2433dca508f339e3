import type { FilterQuery } from '@mikro-orm/core';
import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import {
  ApiKeyScope,
  isAdmin,
  requireTenantManagement,
  requireTenantScope,
  type Viewer,
} from '../graphql/access.js';
import { badUserInput, forbidden, notFound } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { isUuid, requireName } from '../graphql/validate.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { findVisibleTenant } from '../tenants/tenant.service.js';
import { User } from '../users/user.entity.js';
import { ApiKey } from './api-key.entity.js';
import type { CreateApiKeyInput } from './api-key.inputs.js';
import {
  optionalExpiry,
  optionalRateLimit,
  optionalRestriction,
  requireIpRange,
} from './api-key-input.validation.js';
import { displayPrefix, type GeneratedApiKey, generateApiKey, hashApiKey } from './api-key-secret.js';

export interface IssuedApiKey {
  readonly apiKey: ApiKey;
  /** The plaintext key, returned once. */
  readonly key: string;
}

export interface ApiKeyFields {
  readonly name: string;
  readonly scopes: ApiKeyScope[];
  readonly tenantId: string | null;
  readonly userId?: string | null;
  readonly allowedServers?: string[] | null;
  readonly rateLimitPerHour?: number | null;
  readonly rateLimitPerDay?: number | null;
  readonly ipWhitelist?: string[] | null;
  readonly expiresAt?: Date | null;
}

/** Issues a new key. The caller flushes (inside its own transaction). */
export function issueApiKey(
  em: EntityManager,
  fields: ApiKeyFields,
  secret: GeneratedApiKey = generateApiKey(),
): IssuedApiKey {
  const apiKey = new ApiKey({
    name: fields.name,
    keyHash: secret.hash,
    prefix: secret.prefix,
    scopes: [...new Set(fields.scopes)],
    tenant: fields.tenantId === null ? null : em.getReference(Tenant, fields.tenantId, { wrapped: true }),
  });
  apiKey.user = fields.userId == null ? null : em.getReference(User, fields.userId, { wrapped: true });
  apiKey.allowedServers = fields.allowedServers ?? null;
  apiKey.rateLimitPerHour = fields.rateLimitPerHour ?? null;
  apiKey.rateLimitPerDay = fields.rateLimitPerDay ?? null;
  apiKey.ipWhitelist = fields.ipWhitelist ?? null;
  apiKey.expiresAt = fields.expiresAt ?? null;
  em.persist(apiKey);
  return { apiKey, key: secret.key };
}

export type AdminKeyOutcome = 'created' | 'present' | 'revoked';

/**
 * Makes sure the operator's `ADMIN_API_KEY` works as a platform admin key. A key an operator has revoked
 * stays revoked: restarting the server must not undo a revocation.
 */
export async function ensureAdminApiKey(em: EntityManager, key: string): Promise<AdminKeyOutcome> {
  const existing = await em.findOne(ApiKey, { keyHash: hashApiKey(key) });
  if (existing) return existing.isActive ? 'present' : 'revoked';
  issueApiKey(
    em,
    { name: 'ADMIN_API_KEY', scopes: Object.values(ApiKeyScope), tenantId: null },
    { key, prefix: displayPrefix(key), hash: hashApiKey(key) },
  );
  await em.flush();
  return 'created';
}

/**
 * Keys the viewer may manage, newest first. Keys are credentials, so managing them, listing included, takes
 * more than READ: a leaked read-only dashboard key must not reveal which keys exist, what they reach and
 * from where. WRITE manages its own tenant's keys; ADMIN every key. Platform keys (no tenant) are ADMIN's
 * alone: a non-admin platform key could otherwise list or revoke the operator's admin key.
 */
export async function listApiKeys(
  em: EntityManager,
  viewer: Viewer,
  page: PageRequest,
): Promise<Connection<ApiKey>> {
  return findPage(em, ApiKey, manageableKeys(viewer), page, {
    field: 'createdAt',
    direction: 'DESC',
  });
}

/**
 * The keys the viewer may manage: its tenant's, or every key for admins. A key limited by `allowedServers`
 * manages only keys limited to some of its own servers: a key that reaches further (every server, or
 * another one) is not its to see, revoke or unlock, and its `allowedServers` would name servers it may not see.
 */
function manageableKeys(viewer: Viewer): FilterQuery<ApiKey> {
  requireTenantManagement(viewer, 'API keys');
  const allowed = viewer.allowedServers;
  return {
    ...requireTenantScope(viewer, 'API keys'),
    ...(allowed === null ? {} : { allowedServers: { $contained: [...allowed] } }),
  };
}

/**
 * The key with this id if the viewer may manage it; another tenant's key is NOT_FOUND. A key with the ADMIN
 * scope is a platform admin key wherever it sits, so only admins may touch it.
 */
async function findManageableKey(em: EntityManager, viewer: Viewer, id: string): Promise<ApiKey> {
  const key = isUuid(id) ? await em.findOne(ApiKey, { $and: [{ id }, manageableKeys(viewer)] }) : null;
  if (!key) throw notFound('API key', id);
  if (key.scopes.includes(ApiKeyScope.ADMIN) && !isAdmin(viewer)) {
    throw forbidden('Only platform admins may manage keys with the ADMIN scope.');
  }
  return key;
}

interface NewApiKey {
  readonly name: string;
  readonly scopes: ApiKeyScope[];
  readonly allowedServers: string[] | null;
  readonly rateLimitPerHour: number | null;
  readonly rateLimitPerDay: number | null;
  readonly ipWhitelist: string[] | null;
  readonly expiresAt: Date | null;
}

function validateNewApiKey(input: CreateApiKeyInput, now: Date): NewApiKey {
  if (input.scopes.length === 0) throw badUserInput('"scopes" must name at least one scope.', 'scopes');
  return {
    name: requireName(input.name, 'name'),
    scopes: [...new Set(input.scopes)],
    allowedServers: optionalRestriction(input.allowedServers, 'allowedServers', 'server id'),
    rateLimitPerHour: optionalRateLimit(input.rateLimitPerHour, 'rateLimitPerHour'),
    rateLimitPerDay: optionalRateLimit(input.rateLimitPerDay, 'rateLimitPerDay'),
    ipWhitelist:
      optionalRestriction(input.ipWhitelist, 'ipWhitelist', 'address')?.map(requireIpRange) ?? null,
    expiresAt: optionalExpiry(input.expiresAt, now),
  };
}

/**
 * Scopes a caller may grant: admins any; everyone else only scopes it holds itself, so a key can never mint
 * a stronger one (in particular, a tenant key never mints a platform admin key).
 */
function checkGrantable(viewer: Viewer, scopes: readonly ApiKeyScope[]): void {
  if (isAdmin(viewer)) return;
  if (scopes.includes(ApiKeyScope.ADMIN)) throw forbidden('Only platform admins may grant the ADMIN scope.');
  const missing = scopes.filter((scope) => !viewer.scopes.has(scope));
  if (missing.length > 0) {
    const names = missing.map((scope) => scope.toUpperCase()).join(', ');
    throw forbidden(`A key may grant only scopes it holds itself; yours lacks ${names}.`);
  }
}

/**
 * Creates a key and returns its plaintext once; only the key's SHA-256 is stored. Access decisions happen
 * inside the audited change, so a refused attempt (say, a tenant key asking for ADMIN) leaves a failed
 * audit row. Audit details never hold the key or its hash.
 */
export function createApiKey(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  input: CreateApiKeyInput,
  now = new Date(),
): Promise<IssuedApiKey> {
  const fields = validateNewApiKey(input, now);
  const tenantId = input.tenantId ?? viewer.tenantId;
  const entry = {
    action: 'api_key.create',
    resourceType: 'api_key',
    details: {
      name: fields.name,
      scopes: fields.scopes.map((scope) => scope.toUpperCase()),
      // Only well-formed ids: anything else names nothing and may be any size.
      tenantId: tenantId !== null && isUuid(tenantId) ? tenantId : null,
      userId: input.userId != null && isUuid(input.userId) ? input.userId : null,
    },
  };
  return audited(em, actor, entry, async (tx) => {
    requireTenantManagement(viewer, 'API keys');
    checkGrantable(viewer, fields.scopes);
    if (tenantId === null && !isAdmin(viewer)) {
      throw forbidden('Only platform admins may create platform keys (keys without a tenant).');
    }
    if (tenantId !== null) await findVisibleTenant(tx, viewer, tenantId);
    if (input.userId != null) await requireUserOfTenant(tx, input.userId, tenantId);
    if (fields.allowedServers === null && viewer.allowedServers !== null) {
      throw forbidden(
        'This key is limited to some servers: the keys it creates must be limited to some of them ("allowedServers").',
      );
    }
    if (fields.allowedServers !== null) {
      await requireVisibleServersOfTenant(tx, fields.allowedServers, tenantId);
    }
    const issued = issueApiKey(tx, { ...fields, tenantId, userId: input.userId ?? null });
    await tx.flush();
    return { result: issued, resourceId: issued.apiKey.id };
  });
}

/** A key acts for a user of its own tenant; any other id is NOT_FOUND, as if it did not exist. */
async function requireUserOfTenant(
  em: EntityManager,
  userId: string,
  tenantId: string | null,
): Promise<void> {
  const user = isUuid(userId) ? await em.findOne(User, { id: userId, tenant: tenantId }) : null;
  if (!user) throw notFound('User', userId);
  if (!user.isActive) throw badUserInput(`User ${userId} is deactivated.`, 'userId');
}

/** A key may be limited to servers of its own tenant that its creator may see; any other id is NOT_FOUND. */
async function requireVisibleServersOfTenant(
  em: EntityManager,
  ids: string[],
  tenantId: string | null,
): Promise<void> {
  const invalid = ids.find((id) => !isUuid(id));
  if (invalid !== undefined) throw notFound('Server', invalid);
  const found = await em.find(MCPServer, { id: { $in: ids }, tenant: tenantId }, { fields: ['id'] });
  const foundIds = new Set(found.map((server) => server.id));
  const missing = ids.find((id) => !foundIds.has(id));
  if (missing !== undefined) throw notFound('Server', missing);
}

/** Revokes a key for good: it stops working with its next request. */
export function revokeApiKey(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
): Promise<ApiKey> {
  return changeKey(em, actor, viewer, id, 'api_key.revoke', (key) => {
    key.isActive = false;
  });
}

/** Lifts a lockout after failed attempts. A revoked key stays revoked. */
export function unlockApiKey(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
): Promise<ApiKey> {
  return changeKey(em, actor, viewer, id, 'api_key.unlock', (key) => {
    key.isLocked = false;
    key.failedAttempts = 0;
  });
}

function changeKey(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
  action: string,
  change: (key: ApiKey) => void,
): Promise<ApiKey> {
  // Only a well-formed id goes into the audit row: anything else cannot name a key.
  const entry = { action, resourceType: 'api_key', resourceId: isUuid(id) ? id : null };
  return audited(em, actor, entry, async (tx) => {
    const key = await findManageableKey(tx, viewer, id);
    change(key);
    await tx.flush();
    return { result: key, resourceId: key.id };
  });
}
