import type { EntityManager } from '../db/orm.js';
import { ApiKeyScope } from '../graphql/access.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { ApiKey } from './api-key.entity.js';
import { displayPrefix, type GeneratedApiKey, generateApiKey, hashApiKey } from './api-key-secret.js';

export interface IssuedApiKey {
  readonly apiKey: ApiKey;
  /** The plaintext key, returned once. */
  readonly key: string;
}

/** Issues a new key. The caller flushes (inside its own transaction). */
export function issueApiKey(
  em: EntityManager,
  fields: { name: string; scopes: ApiKeyScope[]; tenantId: string | null },
  secret: GeneratedApiKey = generateApiKey(),
): IssuedApiKey {
  const apiKey = new ApiKey({
    name: fields.name,
    keyHash: secret.hash,
    prefix: secret.prefix,
    scopes: [...new Set(fields.scopes)],
    tenant: fields.tenantId === null ? null : em.getReference(Tenant, fields.tenantId, { wrapped: true }),
  });
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
