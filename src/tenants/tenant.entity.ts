import { Entity, Enum, Filter, Property } from '@mikro-orm/core';
import { Directive, Field, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';

export enum TenantStatus {
  ACTIVE = 'active',
  SUSPENDED = 'suspended',
  DISABLED = 'disabled',
}
registerEnumType(TenantStatus, { name: 'TenantStatus' });

/** An organisation using the registry; every server, key and log belongs to one. */
@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'tenants' })
@Filter(tenantScoped<Tenant>((scope) => ({ id: scope.tenantId })))
export class Tenant extends BaseEntity<'status' | 'settings'> {
  @Field()
  @Property({ type: 'string', length: 255, unique: 'tenants_name_unique' })
  name: string;

  @Field(() => TenantStatus)
  @Enum({ items: () => TenantStatus, default: TenantStatus.ACTIVE })
  status: TenantStatus = TenantStatus.ACTIVE;

  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '{}' })
  settings: JsonObject = {};

  constructor(name: string, settings: JsonObject = {}) {
    super();
    this.name = name;
    this.settings = settings;
  }
}
