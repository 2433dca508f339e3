import { AuditLog } from '../audit/audit-log.entity.js';
import type { EntityManager } from '../db/orm.js';
import type { Logger } from '../logger.js';

/** Why a request was not authenticated. Recorded in the audit trail; the client is never told. */
export type AuthFailureReason =
  | 'missing_key'
  | 'unknown_key'
  | 'wrong_secret'
  | 'revoked'
  | 'expired'
  | 'locked'
  | 'ip_not_allowed'
  /** An access token that failed verification: signature, issuer, audience, lifetime or algorithm. */
  | 'invalid_token'
  /** A verified token naming no tenant, or one that does not exist. */
  | 'unknown_tenant'
  /** A verified token of a user who was deactivated, or moved to another tenant. */
  | 'inactive_user';

export interface AuthFailure {
  readonly reason: AuthFailureReason;
  /** The key's display prefix, when the request sent a key long enough for the prefix not to be all of it. */
  readonly prefix: string | null;
  readonly clientIp: string | null;
  /** The key the request named (by its secret or its prefix), when there is one. */
  readonly apiKeyId: string | null;
  readonly tenantId: string | null;
}

export interface ThrottleLimits {
  readonly windowMs: number;
  /** Distinct prefixes one address may have recorded per window. */
  readonly perAddress: number;
  /** Rows per window for this process, whatever their origin. */
  readonly total: number;
}

const DEFAULT_LIMITS: ThrottleLimits = { windowMs: 60_000, perAddress: 20, total: 1000 };

/**
 * Decides which authentication failures reach the audit table. Every failure deserves a row, but a flood of
 * bad requests must not become a flood of writes (and a full disk): per window, at most one row for each
 * prefix and address pair, at most `perAddress` pairs for one address (random keys have random prefixes),
 * and at most `total` rows in all. Kept in memory, per process: with several instances each writes its own
 * share, which stays bounded. Memory is bounded too, since only admitted pairs are remembered.
 */
export class AuthFailureThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private readonly recorded = new Set<string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_LIMITS) {}

  admit(prefix: string | null, clientIp: string | null, now = Date.now()): boolean {
    if (now - this.windowStart >= this.limits.windowMs) {
      this.windowStart = now;
      this.recorded.clear();
      this.perAddress.clear();
    }
    const address = clientIp ?? 'unknown';
    const pair = `${prefix ?? ''}\n${address}`;
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (
      this.recorded.has(pair) ||
      this.recorded.size >= this.limits.total ||
      fromAddress >= this.limits.perAddress
    ) {
      return false;
    }
    this.recorded.add(pair);
    this.perAddress.set(address, fromAddress + 1);
    return true;
  }
}

/**
 * Writes the `auth.failure` row of a refused request, if the throttle admits it. Never the key, nor its hash:
 * only its prefix. A failed write is logged and swallowed: the client gets its UNAUTHENTICATED answer anyway.
 */
export async function recordAuthFailure(
  em: EntityManager,
  throttle: AuthFailureThrottle,
  log: Logger,
  failure: AuthFailure,
): Promise<void> {
  if (!throttle.admit(failure.prefix, failure.clientIp)) return;
  const row = new AuditLog({ action: 'auth.failure', resourceType: 'api_key', success: false });
  row.apiKeyId = failure.apiKeyId;
  row.tenantId = failure.tenantId;
  row.resourceId = failure.apiKeyId;
  row.ipAddress = failure.clientIp;
  row.details = { reason: failure.reason, ...(failure.prefix === null ? {} : { prefix: failure.prefix }) };
  await write(em, log, row);
}

/** The row saying that wrong secrets locked a key; once per lock, so never throttled. */
export async function recordKeyLocked(
  em: EntityManager,
  log: Logger,
  key: { id: string; tenantId: string | null; failedAttempts: number },
  clientIp: string | null,
): Promise<void> {
  const row = new AuditLog({ action: 'api_key.lock', resourceType: 'api_key', success: true });
  row.apiKeyId = key.id;
  row.tenantId = key.tenantId;
  row.resourceId = key.id;
  row.ipAddress = clientIp;
  row.details = { reason: 'failed_attempts', failedAttempts: key.failedAttempts };
  await write(em, log, row);
}

async function write(em: EntityManager, log: Logger, row: AuditLog): Promise<void> {
  try {
    await em.fork().persistAndFlush(row);
  } catch (error) {
    log.error(
      { err: error instanceof Error ? error.message : String(error) },
      'could not write an authentication audit row',
    );
  }
}
