import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { unauthenticated } from '../graphql/errors.js';
import { ApiKey } from './api-key.entity.js';
import { hashApiKey, sameHash } from './api-key-secret.js';

const MAX_KEY_LENGTH = 256;

/** Extracts the key from `Bearer <key>`; anything else is no key at all. */
export function bearerToken(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_KEY_LENGTH ? token : null;
}

/**
 * Resolves an `Authorization` value to the viewer it identifies. Missing, unknown, inactive, locked and
 * expired keys all get the same UNAUTHENTICATED error: a caller learns nothing about which it was.
 */
export async function authenticate(
  em: EntityManager,
  authorization: unknown,
  now = new Date(),
): Promise<Viewer> {
  const token = bearerToken(authorization);
  if (token === null) throw unauthenticated();
  const hash = hashApiKey(token);
  const key = await em.findOne(ApiKey, { keyHash: hash });
  if (
    key === null ||
    !sameHash(key.keyHash, hash) ||
    !key.isActive ||
    key.isLocked ||
    (key.expiresAt !== null && key.expiresAt <= now)
  ) {
    throw unauthenticated();
  }
  return {
    apiKeyId: key.id,
    tenantId: key.tenant?.id ?? null,
    userId: key.user?.id ?? null,
    scopes: new Set(key.scopes),
  };
}
