import { Entity, Filter, Index, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';

/**
 * Who did what to which resource, and whether it worked. Written in the same transaction as the change.
 *
 * Tenant, user and key are plain ids without foreign keys on purpose: audit history is immutable and must
 * outlive what it mentions. A foreign key would either block deleting a tenant or user (RESTRICT) or
 * rewrite history (SET NULL / CASCADE).
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'audit_logs' })
@Filter(tenantScoped<AuditLog>((scope) => ({ tenantId: scope.tenantId })))
// Listing a tenant's audit trail, newest first (source index idx_audit_logs_tenant_time).
@Index({
  name: 'audit_logs_tenant_id_created_at_idx',
  expression:
    'create index "audit_logs_tenant_id_created_at_idx" on "audit_logs" ("tenant_id", "created_at" desc)',
})
export class AuditLog extends BaseEntity<
  'tenantId' | 'userId' | 'apiKeyId' | 'resourceId' | 'details' | 'ipAddress'
> {
  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  tenantId: string | null = null;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  userId: string | null = null;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  apiKeyId: string | null = null;

  /** What happened, as `resource.verb`: `tenant.create`, `server.delete`, `auth.failure`. */
  @Field()
  @Property({ type: 'string', length: 100 })
  action: string;

  @Field()
  @Property({ type: 'string', length: 100 })
  resourceType: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'string', length: 255, nullable: true })
  resourceId: string | null = null;

  @Field()
  @Property({ type: 'boolean' })
  success: boolean;

  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '{}' })
  details: JsonObject = {};

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 64, nullable: true })
  ipAddress: string | null = null;

  constructor(fields: { action: string; resourceType: string; success: boolean }) {
    super();
    this.action = fields.action;
    this.resourceType = fields.resourceType;
    this.success = fields.success;
  }
}
