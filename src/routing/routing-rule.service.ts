import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import { requireTenantWideKey, type Viewer } from '../graphql/access.js';
import { badUserInput, notFound } from '../graphql/errors.js';
import { isUuid, requireName } from '../graphql/validate.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { LoadBalancingStrategy } from './routing.enums.js';
import type { CreateRoutingRuleInput } from './routing.inputs.js';
import { RoutingRule } from './routing-rule.entity.js';
import { RoutingRuleTarget } from './routing-rule-target.entity.js';
import { requireConditions } from './rule-conditions.js';

/** Limits that keep a tenant's routing table small enough to read whole for every call. */
export const ROUTING_LIMITS = {
  rulesPerTenant: 200,
  targetsPerRule: 50,
  maxWeight: 1000,
  maxAbsPriority: 1_000_000,
} as const;

/** The rules the viewer may see (its tenant's; every tenant's for platform admins), highest priority first. */
export function listRoutingRules(em: EntityManager): Promise<RoutingRule[]> {
  return em.find(RoutingRule, {}, { orderBy: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' } });
}

/** Rules route every call of the tenant: a limited key could send other keys' calls to its own servers. */
const requireUnlimitedKey = (viewer: Viewer) => requireTenantWideKey(viewer, 'routing rules');

interface ValidatedRule {
  readonly name: string;
  readonly conditions: RoutingRule['conditions'];
  readonly targets: readonly { readonly serverId: string; readonly weight: number }[];
  readonly strategy: LoadBalancingStrategy;
  readonly priority: number;
}

function validateRule(input: CreateRoutingRuleInput): ValidatedRule {
  const name = requireName(input.name, 'name');
  const conditions = requireConditions(input.conditions);
  const ids = input.targetServerIds;
  if (ids.length === 0 || ids.length > ROUTING_LIMITS.targetsPerRule) {
    throw badUserInput(
      `"targetServerIds" must name 1 to ${ROUTING_LIMITS.targetsPerRule} servers.`,
      'targetServerIds',
    );
  }
  if (new Set(ids).size !== ids.length) {
    throw badUserInput('"targetServerIds" names a server twice.', 'targetServerIds');
  }
  const weights = input.weights ?? ids.map(() => 1);
  if (weights.length !== ids.length) {
    throw badUserInput('"weights" must give one weight per target server, in their order.', 'weights');
  }
  if (weights.some((weight) => weight < 1 || weight > ROUTING_LIMITS.maxWeight)) {
    throw badUserInput(`Each weight must be from 1 to ${ROUTING_LIMITS.maxWeight}.`, 'weights');
  }
  const priority = input.priority ?? 0;
  if (Math.abs(priority) > ROUTING_LIMITS.maxAbsPriority) {
    throw badUserInput(
      `"priority" must be from -${ROUTING_LIMITS.maxAbsPriority} to ${ROUTING_LIMITS.maxAbsPriority}.`,
      'priority',
    );
  }
  return {
    name,
    conditions,
    targets: ids.map((serverId, index) => ({ serverId, weight: weights[index] ?? 1 })),
    strategy: input.loadBalancingStrategy ?? LoadBalancingStrategy.ROUND_ROBIN,
    priority,
  };
}

/**
 * The target servers, each visible to the caller (NOT_FOUND otherwise, exactly as for an unknown id), and
 * the tenant the rule belongs to: the caller's, or for a platform key that of its targets.
 */
async function visibleTargets(
  em: EntityManager,
  viewer: Viewer,
  serverIds: readonly string[],
): Promise<{ tenantId: string; servers: MCPServer[] }> {
  const wellFormed = serverIds.filter(isUuid);
  const servers = wellFormed.length > 0 ? await em.find(MCPServer, { id: { $in: wellFormed } }) : [];
  const found = new Set(servers.map((server) => server.id));
  const missing = serverIds.find((id) => !found.has(id));
  if (missing !== undefined) throw notFound('Server', missing);
  const tenants = new Set(servers.map((server) => server.tenant.id));
  const tenantId = viewer.tenantId ?? [...tenants][0];
  if (tenantId === undefined || tenants.size !== 1 || !tenants.has(tenantId)) {
    throw badUserInput("A rule's target servers must all belong to one tenant.", 'targetServerIds');
  }
  return { tenantId, servers };
}

export async function createRoutingRule(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  input: CreateRoutingRuleInput,
): Promise<RoutingRule> {
  const entry = { action: 'routing_rule.create', resourceType: 'routing_rule' };
  return audited(em, actor, entry, async (tx) => {
    requireUnlimitedKey(viewer);
    const rule = validateRule(input);
    const { tenantId } = await visibleTargets(
      tx,
      viewer,
      rule.targets.map((target) => target.serverId),
    );
    const existing = await tx.count(RoutingRule, { tenant: tenantId });
    if (existing >= ROUTING_LIMITS.rulesPerTenant) {
      throw badUserInput(
        `A tenant has at most ${ROUTING_LIMITS.rulesPerTenant} routing rules: delete one first.`,
        'name',
      );
    }
    const created = new RoutingRule(
      tx.getReference(Tenant, tenantId, { wrapped: true }),
      rule.name,
      rule.conditions,
    );
    created.loadBalancingStrategy = rule.strategy;
    created.priority = rule.priority;
    const ruleRef = tx.getReference(RoutingRule, created.id, { wrapped: true });
    tx.persist([
      created,
      ...rule.targets.map(({ serverId, weight }) =>
        Object.assign(
          new RoutingRuleTarget(ruleRef, tx.getReference(MCPServer, serverId, { wrapped: true })),
          { weight },
        ),
      ),
    ]);
    await tx.flush();
    return { result: created, resourceId: created.id };
  });
}

/** Deletes a rule of the caller's tenant (its targets go with it); NOT_FOUND for any other id. */
export function deleteRoutingRule(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
): Promise<boolean> {
  const entry = { action: 'routing_rule.delete', resourceType: 'routing_rule' };
  return audited(em, actor, entry, async (tx) => {
    requireUnlimitedKey(viewer);
    const rule = isUuid(id) ? await tx.findOne(RoutingRule, { id }) : null;
    if (!rule) throw notFound('Routing rule', id);
    // Through the unit of work, so the change is announced (tenant-rules.ts); the targets go by cascade.
    tx.remove(rule);
    return { result: true, resourceId: rule.id };
  });
}
