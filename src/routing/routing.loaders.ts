import DataLoader from 'dataloader';
import type { EntityManager } from '../db/orm.js';
import { RoutingRuleTarget } from './routing-rule-target.entity.js';

export interface RoutingLoaders {
  /**
   * The targets of each rule with their servers, by server name: one statement per batch of rules. Targets
   * outside the request's scope (servers a limited key may not use) are left out by the tenant filter.
   */
  readonly targetsByRule: DataLoader<string, RoutingRuleTarget[]>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends RoutingLoaders {}
}

export function createRoutingLoaders(em: EntityManager): RoutingLoaders {
  return {
    targetsByRule: new DataLoader(async (ruleIds) => {
      const targets = await em.find(
        RoutingRuleTarget,
        { rule: { $in: [...ruleIds] } },
        { populate: ['server'], orderBy: { server: { name: 'ASC' } } },
      );
      const byRule = new Map<string, RoutingRuleTarget[]>(ruleIds.map((id) => [id, []]));
      for (const target of targets) byRule.get(target.rule.id)?.push(target);
      return ruleIds.map((id) => byRule.get(id) ?? []);
    }),
  };
}
