import type { OidcSettings } from '../config.js';
import { backgroundFork, type EntityManager } from '../db/orm.js';
import { ApiKeyScope, type Viewer } from '../graphql/access.js';
import { unauthenticated } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { matchesAny, parseIpRanges } from '../net/ip-range.js';
import type { EventBus } from '../pubsub/pubsub.js';
import { User } from '../users/user.entity.js';
import { ApiKey } from './api-key.entity.js';
import { API_KEY_TOPICS } from './api-key.events.js';
import { displayPrefix, hashApiKey, sameHash } from './api-key-secret.js';
import {
  type AuthFailureReason,
  AuthFailureThrottle,
  recordAuthFailure,
  recordKeyLocked,
} from './auth-failure-audit.js';
import type { KeyCache, KnownKey } from './key-cache.js';
import { admitToken } from './token-admission.js';
import { looksLikeJwt, type TokenVerifier } from './token-verifier.js';

const MAX_KEY_LENGTH = 256;
/** Access tokens are longer than keys: a JWT with a few claims and an RSA signature is about 1 KiB. */
const MAX_BEARER_LENGTH = 16_384;

/** Extracts the key (or access token) from `Bearer <key>`; anything else is no key at all. */
export function bearerToken(authorization: unknown): string | null {
  if (typeof authorization !== 'string' || authorization.length > MAX_BEARER_LENGTH + 16) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_BEARER_LENGTH ? token : null;
}

/** What a request is addressed to, beside its credentials. */
export interface AuthenticationTarget {
  /**
   * The RFC 8707 resource (an MCP endpoint's canonical URI) the request is for: an access token issued for it
   * is accepted there, as one for `OIDC_AUDIENCE` is everywhere. Absent: only `OIDC_AUDIENCE`.
   */
  readonly resource?: string;
  readonly now?: Date;
}

/** Resolves an `Authorization` value, sent from `clientIp`, to the viewer it identifies. */
export type Authenticate = (
  em: EntityManager,
  authorization: unknown,
  clientIp: string | null,
  target?: AuthenticationTarget,
) => Promise<Viewer>;

export interface AuthenticatorOptions {
  readonly maxFailedAttempts: number;
  /** Access tokens from OpenID providers, beside API keys; absent: API keys only. */
  readonly tokens?: { readonly settings: OidcSettings; readonly verifier: TokenVerifier };
  readonly log: Logger;
  readonly throttle?: AuthFailureThrottle;
  /** Keys accepted lately (key-cache.ts); absent: every request reads its key. */
  readonly keys?: KeyCache;
  /** Where a key locked by failed attempts is announced, so every instance's cache drops it. */
  readonly eventBus?: Pick<EventBus, 'pubSub' | 'coherence'>;
}

/** A key's row as the wrong-secret counter leaves it. */
interface CountedKey {
  id: string;
  tenant_id: string | null;
  failed_attempts: number;
  locked_now: boolean;
}

/**
 * Authentication, one per process (it holds the audit throttle). Missing, unknown, revoked, expired, locked
 * and wrong-address keys, and wrong secrets, all get the same UNAUTHENTICATED error; only the audit trail
 * says which it was. Every refused key costs the same work whatever the reason (one indexed lookup by hash,
 * one indexed update by prefix, one throttled audit row), so the answer's timing tells no more than its body.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const throttle = options.throttle ?? new AuthFailureThrottle();
  const { log, maxFailedAttempts } = options;

  const authenticateToken = async (
    em: EntityManager,
    tokens: NonNullable<AuthenticatorOptions['tokens']>,
    token: string,
    clientIp: string | null,
    resource: string | undefined,
    now: Date,
  ): Promise<Viewer> => {
    const verified = await tokens.verifier.verify(token, resource);
    const admitted = verified === null ? null : await admitToken(em, tokens.settings, verified, now);
    if (admitted?.viewer !== undefined) return admitted.viewer;
    await recordAuthFailure(em, throttle, log, {
      reason: admitted === null ? 'invalid_token' : admitted.refusal,
      prefix: null,
      clientIp,
      apiKeyId: null,
      tenantId: admitted === null ? null : admitted.tenantId,
    });
    throw unauthenticated();
  };

  return async (em, authorization, clientIp, target = {}) => {
    const now = target.now ?? new Date();
    const bearer = bearerToken(authorization);
    if (bearer !== null && options.tokens !== undefined && looksLikeJwt(bearer)) {
      return authenticateToken(em, options.tokens, bearer, clientIp, target.resource, now);
    }
    const token = bearer !== null && bearer.length <= MAX_KEY_LENGTH ? bearer : null;
    if (token === null) {
      const failure = { prefix: null, clientIp, apiKeyId: null, tenantId: null };
      await recordAuthFailure(em, throttle, log, { ...failure, reason: 'missing_key' });
      throw unauthenticated();
    }
    const hash = hashApiKey(token);
    const known = options.keys?.get(hash);
    // A key refused now (say, expired since) takes the full path below, which reads it and counts the refusal.
    if (known !== undefined && sameHash(known.keyHash, hash) && refusalOf(known, clientIp, now) === null) {
      touchLastUsed(em, known, now, log);
      return known.viewer;
    }
    const ticket = options.keys?.ticket() ?? null;
    const found = await em.findOne(ApiKey, { keyHash: hash });
    const key = found !== null && sameHash(found.keyHash, hash) ? found : null;
    const refusal = key === null ? null : refusalOf(key, clientIp, now);
    if (key !== null && refusal === null) {
      touchLastUsed(em, key, now, log);
      const viewer = viewerOfKey(key);
      options.keys?.remember(key, viewer, ticket);
      return viewer;
    }
    const prefix = displayPrefix(token);
    const counted = await countWrongSecret(em, prefix, hash, maxFailedAttempts);
    const lockedNow = counted.filter((row) => row.locked_now);
    for (const locked of lockedNow) {
      const lockedKey = { id: locked.id, tenantId: locked.tenant_id, failedAttempts: locked.failed_attempts };
      await recordKeyLocked(em, log, lockedKey, clientIp);
      options.eventBus?.pubSub.publish(API_KEY_TOPICS.apiKeyChanged, { apiKeyId: locked.id });
    }
    // Every instance drops a key locked just now before this refusal is answered.
    if (lockedNow.length > 0) await options.eventBus?.coherence.settled();
    const named = key === null ? counted[0] : undefined;
    await recordAuthFailure(em, throttle, log, {
      reason: refusal ?? (named ? 'wrong_secret' : 'unknown_key'),
      // A prefix that would be all of what was sent could be someone's whole secret: not recorded then.
      prefix: token.length >= 2 * prefix.length ? prefix : null,
      clientIp,
      apiKeyId: key?.id ?? named?.id ?? null,
      tenantId: key?.tenant?.id ?? named?.tenant_id ?? null,
    });
    throw unauthenticated();
  };
}

/**
 * Checks connections accepted earlier (websockets held open) again: for each, the viewer it is now, or `null`
 * when its key has since been revoked, locked, expired or refused for the connection's address, or its token's
 * user deactivated or removed. A token's own expiry closes its socket by a timer; its claims are not re-read.
 */
export async function reauthorize(
  em: EntityManager,
  connections: readonly { viewer: Viewer; clientIp: string | null }[],
  now = new Date(),
): Promise<(Viewer | null)[]> {
  const keyIds = unique(connections.map(({ viewer }) => viewer.apiKeyId));
  const userIds = unique(connections.map(({ viewer }) => (viewer.apiKeyId === null ? viewer.userId : null)));
  const [keys, users] = await Promise.all([
    keyIds.length === 0 ? [] : em.find(ApiKey, { id: { $in: keyIds } }),
    userIds.length === 0 ? [] : em.find(User, { id: { $in: userIds }, isActive: true }, { fields: ['id'] }),
  ]);
  const keysById = new Map(keys.map((key) => [key.id, key]));
  const activeUsers = new Set(users.map((user) => user.id));
  return connections.map(({ viewer, clientIp }) => {
    if (viewer.apiKeyId === null) {
      return viewer.userId !== null && activeUsers.has(viewer.userId) ? viewer : null;
    }
    const key = keysById.get(viewer.apiKeyId);
    return key !== undefined && refusalOf(key, clientIp, now) === null ? viewerOfKey(key) : null;
  });
}

function unique(ids: readonly (string | null)[]): string[] {
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

function viewerOfKey(key: ApiKey): Viewer {
  return {
    principalId: `key:${key.id}`,
    apiKeyId: key.id,
    tenantId: key.tenant?.id ?? null,
    userId: key.user?.id ?? null,
    scopes: new Set(key.scopes),
    allowedServers: key.allowedServers === null ? null : new Set(key.allowedServers),
    rateLimitPerHour: key.rateLimitPerHour,
    rateLimitPerDay: key.rateLimitPerDay,
    expiresAt: key.expiresAt,
    // What a key may do is its scopes: WRITE has always managed its tenant's keys and users.
    managesTenant: key.scopes.includes(ApiKeyScope.WRITE) || key.scopes.includes(ApiKeyScope.ADMIN),
  };
}

/** How stale `lastUsedAt` may get: it is written at most once a minute per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Records that the key was used, when its `lastUsedAt` is more than a minute old. The update is conditional,
 * so a fleet of instances writes it once per minute between them, and runs off the request path: a request
 * never waits for it, and a failure only costs a late timestamp.
 */
function touchLastUsed(em: EntityManager, key: ApiKey | KnownKey, now: Date, log: Logger): void {
  if (key.lastUsedAt !== null && now.getTime() - key.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  // The cached copy remembers the use too; the loaded entity is only read.
  if (!(key instanceof ApiKey)) key.lastUsedAt = now;
  backgroundFork(em, 'last-used')
    .nativeUpdate(
      ApiKey,
      { id: key.id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: stale } }] },
      { lastUsedAt: now },
    )
    .catch((error: unknown) =>
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'lastUsedAt not recorded'),
    );
}

/** Why a key that matched its secret may not be used now, or `null` when it may. */
function refusalOf(
  key: Pick<KnownKey, 'isActive' | 'isLocked' | 'expiresAt' | 'ipWhitelist'>,
  clientIp: string | null,
  now: Date,
): AuthFailureReason | null {
  if (!key.isActive) return 'revoked';
  if (key.isLocked) return 'locked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  if (key.ipWhitelist !== null && !matchesAny(clientIp, parseIpRanges(key.ipWhitelist))) {
    return 'ip_not_allowed';
  }
  return null;
}

/**
 * Counts a wrong secret against every key that shares the prefix of what was sent but not its hash, and
 * locks those that reach `maxFailedAttempts`, in one atomic statement (concurrent attempts all count). Runs
 * for every refused key, matching or not, so an unknown prefix costs as much as a known one.
 */
async function countWrongSecret(
  em: EntityManager,
  prefix: string,
  hash: string,
  maxFailedAttempts: number,
): Promise<CountedKey[]> {
  return em.execute(
    `with named as (
       select id, is_locked from api_keys where prefix = ? and key_hash <> ? for update
     )
     update api_keys k
     set failed_attempts = k.failed_attempts + 1,
         is_locked = k.is_locked or k.failed_attempts + 1 >= ?,
         updated_at = now()
     from named where k.id = named.id
     returning k.id, k.tenant_id, k.failed_attempts, (k.is_locked and not named.is_locked) as locked_now`,
    [prefix, hash, maxFailedAttempts],
  );
}
