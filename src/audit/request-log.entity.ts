import { Entity, Filter, Index, Property } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';

/**
 * One API request: the raw material of the performance analytics. High volume, append-only; tenant and key
 * are plain ids (no foreign keys) so inserts stay cheap and history survives deletions, as for AuditLog.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'request_logs' })
@Filter(tenantScoped<RequestLog>((scope) => ({ tenantId: scope.tenantId })))
// A tenant's requests over a time window, newest first (source index idx_request_logs_tenant_time).
@Index({
  name: 'request_logs_tenant_id_created_at_idx',
  expression:
    'create index "request_logs_tenant_id_created_at_idx" on "request_logs" ("tenant_id", "created_at" desc)',
})
// Platform-wide performance summaries and time series scan one time window across all tenants.
@Index({ name: 'request_logs_created_at_idx', properties: ['createdAt'] })
export class RequestLog extends BaseEntity<'tenantId' | 'apiKeyId' | 'userId' | 'operationName'> {
  @Field()
  @Property({ type: 'string', length: 64, unique: 'request_logs_request_id_unique' })
  requestId: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  tenantId: string | null = null;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  apiKeyId: string | null = null;

  @Field(() => ID, {
    nullable: true,
    description:
      'Who called: the signed-in user, or the user its key was issued to; null for a key of nobody.',
  })
  @Property({ type: 'uuid', nullable: true })
  userId: string | null = null;

  @Field()
  @Property({ type: 'string', length: 10 })
  method: string;

  @Field()
  @Property({ type: 'text' })
  path: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 255, nullable: true })
  operationName: string | null = null;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  statusCode: number;

  @Field(() => Float)
  @Property({ type: 'double' })
  durationMs: number;

  constructor(fields: {
    requestId: string;
    method: string;
    path: string;
    statusCode: number;
    durationMs: number;
  }) {
    super();
    this.requestId = fields.requestId;
    this.method = fields.method;
    this.path = fields.path;
    this.statusCode = fields.statusCode;
    this.durationMs = fields.durationMs;
  }
}
