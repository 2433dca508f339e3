import type { EntityKey, EntityMetadata } from '@mikro-orm/core';
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
  await insertAuditRow(em, actor, entry, true, entry.details ?? {});
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
  await insertAuditRow(em, actor, entry, false, { ...entry.details, error: errorCode(error) });
}

// The columns of an audit row written on its own, named from the entity's metadata once per ORM.
const insertStatements = new WeakMap<EntityMetadata, string>();
const INSERTED: readonly EntityKey<AuditLog>[] = [
  'id',
  'createdAt',
  'updatedAt',
  'tenantId',
  'userId',
  'apiKeyId',
  'action',
  'resourceType',
  'resourceId',
  'success',
  'details',
  'ipAddress',
];

/**
 * One audit row as one plain INSERT, durable before the caller goes on: no entity, fork or unit of work for a
 * row nothing reads back (a flush would also wrap it in a transaction of its own). It is written outside any
 * transaction of `em`, so a change that fails and rolls back keeps its failed row.
 */
async function insertAuditRow(
  em: EntityManager,
  actor: AuditActor,
  entry: AuditEntry,
  success: boolean,
  details: JsonObject,
): Promise<void> {
  const meta = em.getMetadata().get(AuditLog);
  let statement = insertStatements.get(meta);
  if (statement === undefined) {
    const columns = INSERTED.map((name) => `"${meta.properties[name].fieldNames[0]}"`);
    statement =
      `insert into "${meta.tableName}" (${columns.join(', ')}) ` +
      'values (?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)';
    insertStatements.set(meta, statement);
  }
  // The row as the entity builds it (id, timestamps, defaults), its values in INSERTED's order.
  const log = auditLog(actor, entry, success, details);
  const values = INSERTED.map((name) => {
    const value: unknown = log[name];
    if (value instanceof Date) return value.toISOString();
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
  });
  await em.getConnection().execute(statement, values, 'run');
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'extensions' in error) {
    const { extensions } = error as { extensions?: { code?: unknown } };
    if (typeof extensions?.code === 'string') return extensions.code;
  }
  return 'INTERNAL_SERVER_ERROR';
}
