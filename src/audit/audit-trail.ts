import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { JsonObject } from '../graphql/scalars.js';
import { AuditLog } from './audit-log.entity.js';

/** Who acted, for the audit trail. */
export interface AuditActor {
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly apiKeyId: string | null;
  readonly ipAddress: string | null;
}

export interface AuditEntry {
  /** `resource.verb`, e.g. `tenant.create`. */
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId?: string | null;
  readonly details?: JsonObject;
}

export function actorOf(context: Pick<GraphQLContext, 'viewer' | 'clientIp'>): AuditActor {
  const viewer: Viewer | null = context.viewer;
  return {
    tenantId: viewer?.tenantId ?? null,
    userId: viewer?.userId ?? null,
    apiKeyId: viewer?.apiKeyId ?? null,
    ipAddress: context.clientIp,
  };
}

function auditLog(actor: AuditActor, entry: AuditEntry, success: boolean, details: JsonObject): AuditLog {
  const log = new AuditLog({ action: entry.action, resourceType: entry.resourceType, success });
  log.tenantId = actor.tenantId;
  log.userId = actor.userId;
  log.apiKeyId = actor.apiKeyId;
  log.ipAddress = actor.ipAddress;
  log.resourceId = entry.resourceId ?? null;
  log.details = details;
  return log;
}

/**
 * Runs a change and its audit row in one transaction. `change` returns its result and the id of the resource
 * it touched. If the change fails, nothing of it is kept and a failed audit row is written on its own,
 * with the error code, then the error goes on to the client.
 */
export async function audited<T>(
  em: EntityManager,
  actor: AuditActor,
  entry: AuditEntry,
  change: (tx: EntityManager) => Promise<{ result: T; resourceId: string }>,
): Promise<T> {
  try {
    return await em.transactional(async (tx) => {
      const { result, resourceId } = await change(tx);
      tx.persist(auditLog(actor, { ...entry, resourceId }, true, entry.details ?? {}));
      return result;
    });
  } catch (error) {
    await auditFailure(em, actor, entry, error);
    throw error;
  }
}

/**
 * Writes the audit row of something that succeeded outside a transaction of its own (a tool call through the
 * gateway: the network exchange never runs inside one).
 */
export async function auditSuccess(em: EntityManager, actor: AuditActor, entry: AuditEntry): Promise<void> {
  // One INSERT: a flush would wrap it in a transaction of its own (three statements on every tool call).
  await em.fork().insert(auditLog(actor, entry, true, entry.details ?? {}));
}

/**
 * Writes the failed audit row of a change that failed before its transaction began (for example while the
 * registry was talking to an MCP server, which never happens inside a transaction).
 */
export async function auditFailure(
  em: EntityManager,
  actor: AuditActor,
  entry: AuditEntry,
  error: unknown,
): Promise<void> {
  await em.fork().insert(auditLog(actor, entry, false, { ...entry.details, error: errorCode(error) }));
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'extensions' in error) {
    const { extensions } = error as { extensions?: { code?: unknown } };
    if (typeof extensions?.code === 'string') return extensions.code;
  }
  return 'INTERNAL_SERVER_ERROR';
}
