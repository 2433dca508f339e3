import { watchCommittedChanges } from '../db/committed-changes.js';
import type { EntityManager, Orm } from '../db/orm.js';
import type { Coherence } from '../pubsub/coherence.js';
import { CoherentCache } from '../pubsub/coherent-cache.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import type { LoadBalancingStrategy } from './routing.enums.js';
import { RoutingRule } from './routing-rule.entity.js';
import { parseConditions, type RuleConditions } from './rule-conditions.js';

// A tenant's active routing rules, which every tool call of the tenant matches against, kept per instance:
// every committed write of a rule (through the ORM, from any path) is announced on the event bus and drops
// that tenant's rules on every instance; while the bus is down nothing is kept. Rule targets are not kept:
// they are read, in the caller's scope, only when a rule matches.

export const ROUTING_RULES_CHANGED = 'routing.rules-changed';

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [ROUTING_RULES_CHANGED]: { readonly tenantIds: readonly string[] };
  }
}

/** An active rule as routing reads it. */
export interface ActiveRule {
  readonly id: string;
  readonly name: string;
  readonly loadBalancingStrategy: LoadBalancingStrategy;
  readonly conditions: RuleConditions;
}

/** Announces every committed change of a routing rule made through `orm` on `bus`. */
export function publishRoutingRuleChanges(orm: Orm, bus: EventPublisher): void {
  watchCommittedChanges<{ tenantIds: string[] }>(orm, {
    changeOf: (changeSets) => {
      const tenantIds = changeSets.flatMap(({ entity }) =>
        entity instanceof RoutingRule ? [entity.tenant.id] : [],
      );
      return tenantIds.length === 0 ? null : { tenantIds: [...new Set(tenantIds)] };
    },
    merge: (a, b) => ({ tenantIds: [...new Set([...a.tenantIds, ...b.tenantIds])] }),
    committed: (change) => bus.publish(ROUTING_RULES_CHANGED, change),
  });
}

export class TenantRoutingRules {
  private readonly cache: CoherentCache<readonly ActiveRule[]>;

  constructor(coherence: Coherence) {
    this.cache = new CoherentCache(coherence, { maxEntries: 10_000, ttlMs: 60_000 });
    coherence.watch(ROUTING_RULES_CHANGED, ({ tenantIds }) => {
      const changed = new Set(tenantIds);
      this.cache.invalidate((_rules, tenantId) => changed.has(tenantId));
    });
  }

  /** The tenant's active rules, highest priority first (the oldest first among equal priorities). */
  async activeRulesOf(em: EntityManager, tenantId: string): Promise<readonly ActiveRule[]> {
    const cached = this.cache.get(tenantId);
    if (cached !== undefined) return cached;
    const ticket = this.cache.ticket();
    const rules = await em.find(
      RoutingRule,
      { tenant: tenantId, isActive: true },
      { orderBy: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' } },
    );
    const active = rules.map((rule) => ({
      id: rule.id,
      name: rule.name,
      loadBalancingStrategy: rule.loadBalancingStrategy,
      conditions: parseConditions(rule.conditions),
    }));
    this.cache.set(tenantId, active, ticket);
    return active;
  }
}
