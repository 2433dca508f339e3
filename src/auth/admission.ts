import { GraphQLError } from 'graphql';
import type { RateLimitSettings } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { ErrorCode, rateLimited } from '../graphql/errors.js';
import type { Authenticate, AuthenticationTarget } from './authenticate.js';
import type { RateDecision, RateLimit, RateLimitStore } from './rate-limit.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MINUTE_MS = 60_000;

/** Addresses remembered as over their unauthenticated budget, per instance, before the oldest is forgotten. */
const MAX_BLOCKED_ADDRESSES = 100_000;

/** Who gets in: authentication plus rate limits, for HTTP requests and websocket connections alike. */
export interface Admission {
  /**
   * Authenticates a request and counts it against its key's budgets. A request without a valid key counts
   * against its address's unauthenticated budget instead; an address over that budget is refused before its
   * key is even looked at. Throws UNAUTHENTICATED or RATE_LIMITED (HTTP 429 with `Retry-After`).
   */
  admit(
    em: EntityManager,
    authorization: unknown,
    clientIp: string | null,
    target?: Pick<AuthenticationTarget, 'resource'>,
  ): Promise<Viewer>;
  /** Counts one more operation of an admitted viewer (each subscription over a websocket). */
  admitOperation(viewer: Viewer): Promise<void>;
  close(): Promise<void>;
}

export interface AdmissionHooks {
  /** Told of every request a budget refused (for metrics). */
  readonly onRefused?: (budget: string) => void;
  readonly now?: () => number;
}

export function createAdmission(
  authenticate: Authenticate,
  store: RateLimitStore,
  settings: RateLimitSettings,
  hooks: AdmissionHooks = {},
): Admission {
  const now = hooks.now ?? Date.now;
  const onRefused = hooks.onRefused ?? (() => {});
  if (!settings.enabled) {
    return {
      admit: (em, authorization, clientIp, target) => authenticate(em, authorization, clientIp, target),
      admitOperation: async () => {},
      close: () => store.close(),
    };
  }
  const unauthenticated: RateLimit = {
    name: 'unauthenticated',
    limit: settings.unauthenticatedPerMinute,
    windowMs: MINUTE_MS,
  };
  const blockedUntil = new Map<string, number>();

  const admitOperation = async (viewer: Viewer): Promise<void> => {
    const limits = keyLimits(viewer);
    if (limits.length === 0) return;
    refuseUnlessAdmitted(await store.take(viewer.principalId, limits), onRefused);
  };

  return {
    async admit(em, authorization, clientIp, target) {
      const address = clientIp ?? 'unknown';
      const blockedFor = (blockedUntil.get(address) ?? 0) - now();
      if (blockedFor > 0) {
        onRefused(unauthenticated.name);
        throw rateLimited(unauthenticated.name, Math.ceil(blockedFor / 1000));
      }
      blockedUntil.delete(address);
      let viewer: Viewer;
      try {
        viewer = await authenticate(em, authorization, clientIp, target);
      } catch (error) {
        if (!isUnauthenticated(error)) throw error;
        const decision = await store.take(`address:${address}`, [unauthenticated]);
        if (!decision.admitted) block(blockedUntil, address, now() + decision.retryAfterMs);
        refuseUnlessAdmitted(decision, onRefused);
        throw error;
      }
      await admitOperation(viewer);
      return viewer;
    },
    admitOperation,
    close: () => store.close(),
  };
}

/** The viewer's own budgets (its key's, or a token user's); none costs no counting. */
function keyLimits(viewer: Viewer): RateLimit[] {
  const limits: RateLimit[] = [];
  if (viewer.rateLimitPerHour !== null) {
    limits.push({ name: 'perHour', limit: viewer.rateLimitPerHour, windowMs: HOUR_MS });
  }
  if (viewer.rateLimitPerDay !== null) {
    limits.push({ name: 'perDay', limit: viewer.rateLimitPerDay, windowMs: DAY_MS });
  }
  return limits;
}

function refuseUnlessAdmitted(decision: RateDecision, onRefused: (budget: string) => void): void {
  if (decision.admitted) return;
  onRefused(decision.limit.name);
  throw rateLimited(decision.limit.name, Math.ceil(decision.retryAfterMs / 1000));
}

function isUnauthenticated(error: unknown): boolean {
  return error instanceof GraphQLError && error.extensions.code === ErrorCode.UNAUTHENTICATED;
}

function block(blockedUntil: Map<string, number>, address: string, until: number): void {
  blockedUntil.set(address, until);
  for (const oldest of blockedUntil.keys()) {
    if (blockedUntil.size <= MAX_BLOCKED_ADDRESSES) return;
    blockedUntil.delete(oldest);
  }
}
