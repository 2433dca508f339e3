import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { LoadBalancingStrategy } from './routing.enums.js';

/**
 * Chooses target servers (RoutingRuleTarget rows) for tool calls that match its conditions; higher priority
 * is tried first.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'routing_rules' })
@Filter(tenantScoped<RoutingRule>((scope) => ({ tenant: scope.tenantId })))
// The gateway reads a tenant's rules in priority order for every call.
@Index({
  name: 'routing_rules_tenant_id_priority_idx',
  expression:
    'create index "routing_rules_tenant_id_priority_idx" on "routing_rules" ("tenant_id", "priority" desc)',
})
export class RoutingRule extends BaseEntity<'loadBalancingStrategy' | 'priority' | 'isActive'> {
  @ManyToOne(() => Tenant, { ref: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant>;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  /** Which calls the rule applies to, e.g. `{ "toolName": "search_*" }`. */
  @Field(() => JSONScalar)
  @Property({ type: 'json' })
  conditions: JsonObject;

  @Field(() => LoadBalancingStrategy)
  @Enum({ items: () => LoadBalancingStrategy, default: LoadBalancingStrategy.ROUND_ROBIN })
  loadBalancingStrategy: LoadBalancingStrategy = LoadBalancingStrategy.ROUND_ROBIN;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  priority: number = 0;

  @Field()
  @Property({ type: 'boolean', default: true })
  isActive: boolean = true;

  constructor(tenant: Ref<Tenant>, name: string, conditions: JsonObject) {
    super();
    this.tenant = tenant;
    this.name = name;
    this.conditions = conditions;
  }
}
