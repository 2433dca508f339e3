import type { Viewer } from '../graphql/access.js';
import type { Coherence } from '../pubsub/coherence.js';
import { type CacheTicket, CoherentCache } from '../pubsub/coherent-cache.js';
import type { ApiKey } from './api-key.entity.js';
import { API_KEY_TOPICS } from './api-key.events.js';

/**
 * An accepted key as authentication needs it again: who it makes the caller, and what is checked at every use
 * (revoked, locked, expired, the address). Only keys that were accepted are kept.
 */
export interface KnownKey {
  readonly id: string;
  readonly keyHash: string;
  readonly viewer: Viewer;
  readonly isActive: boolean;
  readonly isLocked: boolean;
  readonly expiresAt: Date | null;
  readonly ipWhitelist: readonly string[] | null;
  /** Moves forward when this instance records a use (at most once a minute). */
  lastUsedAt: Date | null;
}

/**
 * The keys this instance accepted lately, by hash, so a request does not read its key again. Binding rule
 * (issue 13): a revoked, expired or locked key is still refused on the very next request on every instance.
 * So an entry is dropped on every `auth.api-key-changed` event (published after any committed change of a key
 * and when failed attempts lock one), nothing is used while the event bus cannot promise delivery, and expiry,
 * lock, revocation and the address are checked again at each use. Failed attempts and rate limits count as
 * before: refusals never come from the cache.
 */
export class KeyCache {
  private readonly cache: CoherentCache<KnownKey>;

  constructor(coherence: Coherence) {
    this.cache = new CoherentCache(coherence, { maxEntries: 10_000, ttlMs: 5 * 60_000 });
    coherence.watch(API_KEY_TOPICS.apiKeyChanged, (event) => {
      // An event from elsewhere arrives as JSON: without a key id, drop everything.
      const apiKeyId = event?.apiKeyId;
      if (typeof apiKeyId === 'string') this.cache.invalidate((key) => key.id === apiKeyId);
      else this.cache.invalidate();
    });
  }

  get(hash: string): KnownKey | undefined {
    return this.cache.get(hash);
  }

  ticket(): CacheTicket | null {
    return this.cache.ticket();
  }

  remember(key: ApiKey, viewer: Viewer, ticket: CacheTicket | null): void {
    this.cache.set(
      key.keyHash,
      {
        id: key.id,
        keyHash: key.keyHash,
        viewer,
        isActive: key.isActive,
        isLocked: key.isLocked,
        expiresAt: key.expiresAt,
        ipWhitelist: key.ipWhitelist === null ? null : [...key.ipWhitelist],
        lastUsedAt: key.lastUsedAt,
      },
      ticket,
    );
  }
}
