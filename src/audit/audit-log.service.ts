import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { badUserInput } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { isUuid } from '../graphql/validate.js';
import { AuditLog } from './audit-log.entity.js';
import type { AuditLogFilter } from './audit-log.inputs.js';
import { createdBetween, NEWEST_FIRST, visibleLogs } from './log-filter.js';

/** One page of the audit entries the viewer may see that match `filter`, newest first. */
export function listAuditLogs(
  em: EntityManager,
  viewer: Viewer,
  filter: AuditLogFilter | null | undefined,
  page: PageRequest,
): Promise<Connection<AuditLog>> {
  const where = { $and: [auditConditions(filter ?? {}), visibleLogs(viewer), visibleServerEntries(viewer)] };
  return findPage(em, AuditLog, where, page, NEWEST_FIRST);
}

/**
 * A key limited by `allowedServers` sees the entries about its own servers only: an entry about another
 * server names it (its id, and its name when it was registered). Entries about no server stay visible.
 */
function visibleServerEntries(viewer: Viewer): FilterQuery<AuditLog> {
  const allowed = viewer.allowedServers;
  if (allowed === null) return {};
  // Every change of a server or its health (registry and health features) is audited as resourceType 'server'.
  return { $or: [{ resourceType: { $ne: 'server' } }, { resourceId: { $in: [...allowed] } }] };
}

function auditConditions(filter: AuditLogFilter): FilterQuery<AuditLog> {
  if (filter.userId != null && !isUuid(filter.userId)) {
    throw badUserInput('"userId" must be the id of a user (a UUID).', 'userId');
  }
  return {
    ...(filter.action != null && { action: filter.action }),
    ...(filter.resourceType != null && { resourceType: filter.resourceType }),
    ...(filter.resourceId != null && { resourceId: filter.resourceId }),
    ...(filter.userId != null && { userId: filter.userId }),
    ...(filter.success != null && { success: filter.success }),
    ...createdBetween(filter.since, filter.until),
  };
}
