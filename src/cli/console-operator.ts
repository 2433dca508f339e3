import type { AuditActor } from '../audit/audit-trail.js';
import { ApiKeyScope, type Viewer } from '../graphql/access.js';

/** The operator at the console: its audit rows carry no API key, which is how they read in the trail. */
export const CONSOLE_ACTOR: AuditActor = { tenantId: null, userId: null, apiKeyId: null, ipAddress: null };

/**
 * The operator as the services see a caller: a platform admin (whoever runs the CLI holds the database). It has
 * no key of its own.
 */
export const CONSOLE_VIEWER: Viewer = {
  principalId: 'console',
  apiKeyId: null,
  tenantId: null,
  userId: null,
  scopes: new Set([ApiKeyScope.ADMIN]),
  allowedServers: null,
  rateLimitPerHour: null,
  rateLimitPerDay: null,
  expiresAt: null,
  managesTenant: true,
};
