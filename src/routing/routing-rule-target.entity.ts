import { Entity, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { RoutingRule } from './routing-rule.entity.js';

/**
 * A target server of a routing rule. A join table (not an id array) so that deleting a server removes it
 * from every rule through the foreign key; `weight` serves the WEIGHTED strategy.
 */
@Entity({ tableName: 'routing_rule_targets' })
@Filter(tenantScoped<RoutingRuleTarget>(serverInScope))
@Unique({ name: 'routing_rule_targets_rule_id_server_id_unique', properties: ['rule', 'server'] })
export class RoutingRuleTarget extends BaseEntity<'weight'> {
  @ManyToOne(() => RoutingRule, { ref: true, deleteRule: 'cascade' })
  rule: Ref<RoutingRule>;

  // Deleting a server removes it from the rules that target it.
  @Index({ name: 'routing_rule_targets_server_id_idx' })
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Property({ type: 'integer', default: 1 })
  weight: number = 1;

  constructor(rule: Ref<RoutingRule>, server: Ref<MCPServer>) {
    super();
    this.rule = rule;
    this.server = server;
  }
}
