import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { ApiError, ErrorCode, notFound } from '../graphql/errors.js';
import { isUuid } from '../graphql/validate.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import type { Candidate } from './load-balancing.js';
import { type RoutedServer, routedServers } from './routed-servers.js';
import { LoadBalancingStrategy } from './routing.enums.js';
import { RoutingRuleTarget } from './routing-rule-target.entity.js';
import { conditionsMatch } from './rule-conditions.js';
import type { ActiveRule, TenantRoutingRules } from './tenant-rules.js';

// Where a tool call may go: the given server, the targets of the matching routing rule, or every server the
// caller may use that offers the tool.

export interface ServerCandidate extends Candidate {
  /** With its stored headers and breaker (routed-servers.ts). */
  readonly server: RoutedServer;
}

/** Where a call may go, and how to order it. */
export interface Route {
  readonly candidates: ServerCandidate[];
  readonly strategy: LoadBalancingStrategy;
  readonly counterKey: string;
  readonly preferredServerId?: string;
}

/**
 * Which servers a call may reach: one server (no fail-over); the members of a virtual server, the one the
 * agent's tool name names first and the others offering the same tool as fail-over; or any server.
 */
export type RouteScope =
  | { readonly kind: 'server'; readonly serverId: string }
  | {
      readonly kind: 'members';
      readonly servers: readonly RoutedServer[];
      readonly preferredServerId: string;
    }
  | { readonly kind: 'any' };

/**
 * The candidates of a call, and the strategy that orders them. A matching routing rule of the tenant picks
 * its targets (among the members, for a virtual server's call) and its strategy.
 */
export async function routeOf(
  em: EntityManager,
  rules: TenantRoutingRules,
  viewer: Viewer,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
  scope: RouteScope,
): Promise<Route> {
  if (scope.kind === 'server') {
    const { serverId } = scope;
    const [server] = isUuid(serverId) ? await routedServers(em, [serverId]) : [];
    if (server === undefined) throw notFound('Server', serverId);
    const tool = await em.findOne(ServerTool, { server: server.id, name: toolName });
    if (!tool) throw new ApiError(ErrorCode.NOT_FOUND, `Server ${serverId} has no tool "${toolName}".`);
    return {
      candidates: [candidateOf(server, 1)],
      strategy: LoadBalancingStrategy.ROUND_ROBIN,
      counterKey: `server:${server.id}`,
    };
  }
  if (scope.kind === 'members') return membersRoute(em, rules, viewer, toolName, args, scope);
  const rule = await matchingRule(em, rules, viewer, toolName, args);
  if (rule) {
    const targets = await em.find(RoutingRuleTarget, { rule: rule.id });
    const offering = await serversOffering(
      em,
      toolName,
      targets.map((target) => target.server.id),
    );
    const servers = new Map(
      (await routedServers(em, [...offering])).map((server) => [server.id, server] as const),
    );
    const candidates = targets.flatMap((target) => {
      const server = servers.get(target.server.id);
      return server === undefined ? [] : [candidateOf(server, target.weight)];
    });
    if (candidates.length === 0) {
      throw new ApiError(
        ErrorCode.NOT_FOUND,
        `No target of the routing rule "${rule.name}" that you may use offers the tool "${toolName}".`,
        { ruleId: rule.id },
      );
    }
    return { candidates, strategy: rule.loadBalancingStrategy, counterKey: `rule:${rule.id}` };
  }
  const tools = await em.find(ServerTool, { name: toolName });
  const servers = await routedServers(
    em,
    tools.map((tool) => tool.server.id),
  );
  if (servers.length === 0) {
    throw new ApiError(ErrorCode.NOT_FOUND, `No server you may use offers the tool "${toolName}".`);
  }
  return {
    candidates: servers.map((server) => candidateOf(server, 1)),
    strategy: LoadBalancingStrategy.ROUND_ROBIN,
    counterKey: `tool:${toolName}`,
  };
}

async function membersRoute(
  em: EntityManager,
  rules: TenantRoutingRules,
  viewer: Viewer,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
  scope: Extract<RouteScope, { kind: 'members' }>,
): Promise<Route> {
  // The members offering the tool, as the virtual server's catalog read them in the request's scope.
  const offering = new Map(scope.servers.map((server) => [server.id, server]));
  if (offering.size === 0) {
    throw new ApiError(ErrorCode.NOT_FOUND, `No member server you may use offers the tool "${toolName}".`);
  }
  const preferredServerId = scope.preferredServerId;
  const rule = await matchingRule(em, rules, viewer, toolName, args);
  if (rule) {
    const targets = await em.find(RoutingRuleTarget, {
      rule: rule.id,
      server: { $in: [...offering.keys()] },
    });
    const candidates = targets.flatMap((target) => {
      const server = offering.get(target.server.id);
      return server === undefined ? [] : [candidateOf(server, target.weight)];
    });
    if (candidates.length > 0) {
      return {
        candidates,
        strategy: rule.loadBalancingStrategy,
        counterKey: `rule:${rule.id}`,
        preferredServerId,
      };
    }
  }
  return {
    candidates: [...offering.values()].map((server) => candidateOf(server, 1)),
    strategy: LoadBalancingStrategy.ROUND_ROBIN,
    counterKey: `tool:${toolName}`,
    preferredServerId,
  };
}

/**
 * The highest-priority active rule of the caller's tenant whose conditions match (the oldest first among
 * equal priorities). A platform key without a tenant has no rules: it routes by tool name.
 */
async function matchingRule(
  em: EntityManager,
  rules: TenantRoutingRules,
  viewer: Viewer,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
): Promise<ActiveRule | null> {
  if (viewer.tenantId === null) return null;
  const active = await rules.activeRulesOf(em, viewer.tenantId);
  return active.find((rule) => conditionsMatch(rule.conditions, toolName, args)) ?? null;
}

/** Which of these servers (among those the caller may use) offer the tool. */
async function serversOffering(
  em: EntityManager,
  toolName: string,
  serverIds: string[],
): Promise<Set<string>> {
  if (serverIds.length === 0) return new Set();
  const tools = await em.find(ServerTool, { name: toolName, server: { $in: serverIds } });
  return new Set(tools.map((tool) => tool.server.id));
}

export function candidateOf(server: RoutedServer, weight: number): ServerCandidate {
  return {
    server,
    serverId: server.id,
    healthStatus: server.healthStatus,
    activeConnections: server.activeConnections,
    avgResponseTime: server.avgResponseTime,
    weight,
  };
}
