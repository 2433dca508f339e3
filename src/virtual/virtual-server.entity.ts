import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { ToolNaming } from './virtual.enums.js';

/**
 * A tenant's chosen tools of several registered servers, served to agents as one MCP server at
 * `/mcp/{id}`. Its members (VirtualServerMember rows) say which servers and tools.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'virtual_servers' })
@Filter(tenantScoped<VirtualServer>((scope) => ({ tenant: scope.tenantId })))
// Lists page a tenant's virtual servers by name.
@Index({ name: 'virtual_servers_tenant_id_name_idx', properties: ['tenant', 'name'] })
export class VirtualServer extends BaseEntity<'description' | 'toolNaming' | 'isActive'> {
  @ManyToOne(() => Tenant, { ref: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant>;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Field(() => ToolNaming)
  @Enum({ items: () => ToolNaming, default: ToolNaming.PREFIXED })
  toolNaming: ToolNaming = ToolNaming.PREFIXED;

  /** An inactive virtual server answers agents as if it did not exist. */
  @Field()
  @Property({ type: 'boolean', default: true })
  isActive: boolean = true;

  constructor(tenant: Ref<Tenant>, name: string) {
    super();
    this.tenant = tenant;
    this.name = name;
  }
}
