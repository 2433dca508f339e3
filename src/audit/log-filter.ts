import { requireTenantScope, type Viewer } from '../graphql/access.js';
import { badUserInput } from '../graphql/errors.js';

/** The logs the viewer may see: its tenant's, or every tenant's for platform admins. */
export function visibleLogs(viewer: Viewer): { tenantId?: string } {
  // A platform key without ADMIN has no tenant of its own: it is refused rather than shown everything.
  const { tenant } = requireTenantScope(viewer, 'logs');
  return tenant === undefined ? {} : { tenantId: tenant };
}

/** The `created_at` condition of a log filter: both ends inclusive, and `since` may not follow `until`. */
export function createdBetween(
  since: Date | null | undefined,
  until: Date | null | undefined,
): { createdAt?: { $gte?: Date; $lte?: Date } } {
  if (since != null && until != null && since > until) {
    throw badUserInput('"since" must not be later than "until".', 'until');
  }
  if (since == null && until == null) return {};
  return { createdAt: { ...(since != null && { $gte: since }), ...(until != null && { $lte: until }) } };
}

/**
 * Logs are listed newest first, keyset on (created_at desc, id desc). created_at is timestamptz(3), the
 * precision of a JS Date (see BaseEntity), so the ISO timestamp a cursor carries equals the stored value
 * exactly, and rows sharing a millisecond continue by id.
 */
export const NEWEST_FIRST = { field: 'createdAt', direction: 'DESC' } as const;
