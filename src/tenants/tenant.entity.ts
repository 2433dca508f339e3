import { Entity, Enum, Filter, Property } from '@mikro-orm/core';
import { Directive, Field, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { REGISTRY_NAMESPACE_MAX } from './registry-namespace.js';

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
export class Tenant extends BaseEntity<'status' | 'settings' | 'registryNamespace'> {
  @Field()
  @Property({ type: 'string', length: 255, unique: 'tenants_name_unique' })
  name: string;

  @Field(() => TenantStatus)
  @Enum({ items: () => TenantStatus, default: TenantStatus.ACTIVE })
  status: TenantStatus = TenantStatus.ACTIVE;

  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '{}' })
  settings: JsonObject = {};

  /**
   * The Registry API namespace chosen for the tenant (registry-namespace.ts); `null`: derived from its name.
   * GraphQL shows the namespace in effect (TenantResolver.registryNamespace).
   */
  @Property({
    type: 'string',
    length: REGISTRY_NAMESPACE_MAX,
    nullable: true,
    unique: 'tenants_registry_namespace_unique',
  })
  registryNamespace: string | null = null;

  constructor(name: string, settings: JsonObject = {}, registryNamespace: string | null = null) {
    super();
    this.name = name;
    this.settings = settings;
    this.registryNamespace = registryNamespace;
  }
}
