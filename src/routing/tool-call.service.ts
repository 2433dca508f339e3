import { type AuditActor, auditFailure, auditSuccess } from '../audit/audit-trail.js';
import type { GatewaySettings, HealthSettings } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import { ApiKeyScope, isAdmin, type Viewer } from '../graphql/access.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import type { JsonValue } from '../graphql/scalars.js';
import { requireJsonObject, requireName } from '../graphql/validate.js';
import { coolDown } from '../health/circuit-breaker-machine.js';
import { probeOutcomeOf } from '../health/probe.js';
import { publishHealthEvents, recordCallOutcome } from '../health/probe-recorder.js';
import {
  callTool as callMcpTool,
  type McpFailureOutcome,
  McpInspectionError,
  type McpToolCallResult,
} from '../mcp/mcp-client.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { mcpTransportOf } from '../registry/capabilities.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { loadConnectionHeaders } from '../registry/connection-headers.js';
import type { MCPServer } from '../registry/mcp-server.entity.js';
import { CircuitBreakerState, ServerStatus } from '../registry/registry.enums.js';
import { findVisibleServer } from '../registry/server.service.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import { type Candidate, canonicalJson, orderCandidates } from './load-balancing.js';
import { LoadBalancingStrategy } from './routing.enums.js';
import type { CallToolInput, CallToolResult } from './routing.inputs.js';
import { RoutingRule } from './routing-rule.entity.js';
import { RoutingRuleTarget } from './routing-rule-target.entity.js';
import { conditionsMatch, parseConditions } from './rule-conditions.js';

/** What the gateway needs besides the request's EntityManager. */
export interface GatewayDependencies {
  readonly viewer: Viewer;
  readonly actor: AuditActor;
  readonly keyring: Keyring;
  readonly pubSub: EventPublisher;
  readonly health: HealthSettings;
  readonly gateway: GatewaySettings;
}

const MAX_ARGUMENTS_BYTES = 256 * 1024;

interface ServerCandidate extends Candidate {
  readonly server: MCPServer;
}

/** Where a call may go, and how to order it. */
interface Route {
  readonly candidates: ServerCandidate[];
  readonly strategy: LoadBalancingStrategy;
  readonly counterKey: string;
}

/** Why a candidate was not tried. */
type SkipReason = 'CIRCUIT_OPEN' | 'CIRCUIT_TRIAL_IN_FLIGHT' | 'MAINTENANCE' | 'TRANSPORT_NOT_CALLABLE';

/**
 * Servers whose breaker is on trial (HALF_OPEN, or OPEN with its cool-down passed) and that have a trial call in
 * flight from this instance: the next calls skip them until it ends, so a recovering server gets one call at a
 * time per instance rather than all the traffic at once.
 */
const trialsInFlight = new Set<string>();

interface FailedAttempt {
  readonly serverId: string;
  readonly outcome: string;
  readonly message: string;
}

/**
 * Calls a tool for a client. Candidates: the given server; else the targets of the highest-priority active
 * rule of the caller's tenant whose conditions match the call; else every server the caller may use that has
 * the tool. Open circuits, servers in maintenance and servers the gateway cannot speak to are skipped; the
 * rest are ordered by the rule's strategy (ROUND_ROBIN without a rule) and tried one after the other, up to
 * `maxAttempts`, each within `callTimeoutMs`. A server that does not answer is a failed attempt: it counts
 * like a failed probe and the next candidate is tried. A result with `isError` is the tool's answer and is
 * returned. Nothing waits on the network inside a database transaction.
 */
export async function callToolThroughGateway(
  em: EntityManager,
  deps: GatewayDependencies,
  input: CallToolInput,
): Promise<CallToolResult> {
  const toolName = requireName(input.toolName, 'toolName');
  const entry = { action: 'tool.call', resourceType: 'server', details: { toolName } };
  let lastServerId: string | null = null;
  let attempts = 0;
  try {
    const args =
      input.arguments == null ? {} : requireJsonObject(input.arguments, 'arguments', MAX_ARGUMENTS_BYTES);
    const route = await routeOf(em, deps.viewer, toolName, args, input.serverId ?? null);
    const usable = await usableCandidates(em, route.candidates, deps.health.allowStdio);
    const ordered = orderCandidates(usable, {
      strategy: route.strategy,
      counterKey: route.counterKey,
      hashKey: `${toolName}\u0000${canonicalJson(args)}`,
    }).slice(0, deps.gateway.maxAttempts);

    const failures: FailedAttempt[] = [];
    for (const candidate of ordered) {
      if (candidate.onTrial && trialsInFlight.has(candidate.serverId)) continue;
      attempts += 1;
      lastServerId = candidate.serverId;
      if (candidate.onTrial) trialsInFlight.add(candidate.serverId);
      const answer = await attempt(em, deps, candidate.server, toolName, args).finally(() => {
        if (candidate.onTrial) trialsInFlight.delete(candidate.serverId);
      });
      if ('failure' in answer) {
        failures.push(answer.failure);
        continue;
      }
      const result: CallToolResult = {
        serverId: candidate.serverId,
        toolName,
        isError: answer.result.isError,
        content: answer.result.content as JsonValue,
        structuredContent: (answer.result.structuredContent ?? null) as JsonValue,
        durationMs: answer.result.latencyMs,
        attempts,
      };
      await auditSuccess(em, deps.actor, {
        ...entry,
        resourceId: candidate.serverId,
        details: {
          toolName,
          attempts,
          outcome: answer.result.isError ? 'tool_error' : 'ok',
          durationMs: answer.result.latencyMs,
        },
      });
      return result;
    }
    if (attempts === 0)
      throw unavailable(ordered.map(({ serverId }) => ({ serverId, reason: TRIAL_IN_FLIGHT })));
    throw allAttemptsFailed(toolName, failures, canReadServers(deps.viewer));
  } catch (error) {
    await auditFailure(
      em,
      deps.actor,
      { ...entry, resourceId: lastServerId, details: { toolName, attempts } },
      error,
    );
    throw error;
  }
}

/** The candidates of a call, and the strategy that orders them. */
async function routeOf(
  em: EntityManager,
  viewer: Viewer,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
  serverId: string | null,
): Promise<Route> {
  if (serverId !== null) {
    const server = await findVisibleServer(em, serverId);
    const tool = await em.findOne(ServerTool, { server: server.id, name: toolName });
    if (!tool) throw new ApiError(ErrorCode.NOT_FOUND, `Server ${serverId} has no tool "${toolName}".`);
    return {
      candidates: [candidateOf(server, 1)],
      strategy: LoadBalancingStrategy.ROUND_ROBIN,
      counterKey: `server:${server.id}`,
    };
  }
  const rule = await matchingRule(em, viewer, toolName, args);
  if (rule) {
    const targets = await em.find(RoutingRuleTarget, { rule: rule.id }, { populate: ['server'] });
    const offering = await serversOffering(
      em,
      toolName,
      targets.map((target) => target.server.id),
    );
    const candidates = targets
      .filter((target) => offering.has(target.server.id))
      .map((target) => candidateOf(target.server.getEntity(), target.weight));
    if (candidates.length === 0) {
      throw new ApiError(
        ErrorCode.NOT_FOUND,
        `No target of the routing rule "${rule.name}" that you may use offers the tool "${toolName}".`,
        { ruleId: rule.id },
      );
    }
    return { candidates, strategy: rule.loadBalancingStrategy, counterKey: `rule:${rule.id}` };
  }
  const tools = await em.find(ServerTool, { name: toolName }, { populate: ['server'] });
  if (tools.length === 0) {
    throw new ApiError(ErrorCode.NOT_FOUND, `No server you may use offers the tool "${toolName}".`);
  }
  return {
    candidates: tools.map((tool) => candidateOf(tool.server.getEntity(), 1)),
    strategy: LoadBalancingStrategy.ROUND_ROBIN,
    counterKey: `tool:${toolName}`,
  };
}

/**
 * The highest-priority active rule of the caller's tenant whose conditions match (the oldest first among
 * equal priorities). A platform key without a tenant has no rules: it routes by tool name.
 */
async function matchingRule(
  em: EntityManager,
  viewer: Viewer,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
): Promise<RoutingRule | null> {
  if (viewer.tenantId === null) return null;
  const rules = await em.find(
    RoutingRule,
    { tenant: viewer.tenantId, isActive: true },
    { orderBy: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' } },
  );
  return rules.find((rule) => conditionsMatch(parseConditions(rule.conditions), toolName, args)) ?? null;
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

function candidateOf(server: MCPServer, weight: number): ServerCandidate {
  return {
    server,
    serverId: server.id,
    healthStatus: server.healthStatus,
    activeConnections: server.activeConnections,
    avgResponseTime: server.avgResponseTime,
    weight,
  };
}

/** A candidate the gateway may call now; `onTrial` when its breaker lets calls through one at a time. */
interface UsableCandidate extends ServerCandidate {
  readonly onTrial: boolean;
}

const TRIAL_IN_FLIGHT: SkipReason = 'CIRCUIT_TRIAL_IN_FLIGHT';

/**
 * The candidates the gateway may try. An OPEN circuit is skipped until its cool-down has passed; after it (and
 * while HALF_OPEN) the server is on trial: one call at a time goes through. None left: SERVICE_UNAVAILABLE,
 * saying why each was skipped.
 */
async function usableCandidates(
  em: EntityManager,
  candidates: ServerCandidate[],
  allowStdio: boolean,
): Promise<UsableCandidate[]> {
  const breakers = await em.find(CircuitBreaker, {
    server: { $in: candidates.map((candidate) => candidate.serverId) },
  });
  const breakerOf = new Map(breakers.map((breaker) => [breaker.server.id, breaker]));
  const now = new Date();
  const skipped: Skipped[] = [];
  const usable: UsableCandidate[] = [];
  for (const candidate of candidates) {
    const breaker = breakerOf.get(candidate.serverId);
    const reason = skipReasonOf(candidate.server, breaker, allowStdio, now);
    if (reason !== null) skipped.push({ serverId: candidate.serverId, reason });
    else
      usable.push({
        ...candidate,
        onTrial: breaker !== undefined && breaker.state !== CircuitBreakerState.CLOSED,
      });
  }
  if (usable.length > 0) return usable;
  throw unavailable(skipped);
}

interface Skipped {
  readonly serverId: string;
  readonly reason: SkipReason;
}

function unavailable(skipped: readonly Skipped[]): ApiError {
  const allOpen = skipped.every((skip) => skip.reason === 'CIRCUIT_OPEN' || skip.reason === TRIAL_IN_FLIGHT);
  return new ApiError(
    ErrorCode.SERVICE_UNAVAILABLE,
    allOpen
      ? 'Every server that could take this call has an OPEN circuit (or a trial call in flight): try again shortly.'
      : 'No server that could take this call is available now (open circuits, maintenance, or a transport the gateway does not call).',
    { reason: allOpen ? 'CIRCUITS_OPEN' : 'NO_AVAILABLE_SERVER', skipped },
  );
}

function skipReasonOf(
  server: MCPServer,
  breaker: CircuitBreaker | undefined,
  allowStdio: boolean,
  now: Date,
): SkipReason | null {
  if (mcpTransportOf(server.transportType, allowStdio) === null) return 'TRANSPORT_NOT_CALLABLE';
  if (server.healthStatus === ServerStatus.MAINTENANCE) return 'MAINTENANCE';
  if (breaker?.state === CircuitBreakerState.OPEN) {
    // A copy: deciding whether the cool-down has passed must not change the loaded row.
    const probe = { ...breaker, state: breaker.state, openedAt: breaker.openedAt };
    if (!coolDown(probe, now)) return 'CIRCUIT_OPEN';
  }
  return null;
}

type AttemptOutcome = { readonly result: McpToolCallResult } | { readonly failure: FailedAttempt };

interface McpFailure {
  readonly serverId: string;
  readonly outcome: McpFailureOutcome;
  readonly message: string;
}

/**
 * One attempt on one server: its connection count is raised for the duration of the call, its breaker and
 * the tool's figures record the outcome (atomically in SQL, so concurrent calls lose no count), and breaker
 * changes are published. Stored headers that cannot be opened fail the attempt without contacting the server.
 */
async function attempt(
  em: EntityManager,
  deps: GatewayDependencies,
  server: MCPServer,
  toolName: string,
  args: Record<string, unknown>,
): Promise<AttemptOutcome> {
  let headers: Record<string, string> | null;
  try {
    headers = await loadConnectionHeaders(em, deps.keyring, server);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      failure: { serverId: server.id, outcome: String(error.extensions.code), message: error.message },
    };
  }
  const transport = mcpTransportOf(server.transportType, deps.health.allowStdio);
  if (transport === null) throw new Error(`server ${server.id} is not callable`); // filtered out before
  await changeActiveConnections(em, server.id, +1);
  const startedAt = performance.now();
  let outcome: { readonly result: McpToolCallResult } | { readonly failure: McpFailure };
  try {
    const result = await callMcpTool(
      { endpointUrl: server.endpointUrl, transport, headers },
      { name: toolName, arguments: args },
      { timeoutMs: deps.gateway.callTimeoutMs },
    );
    outcome = { result };
  } catch (error) {
    if (!(error instanceof McpInspectionError)) throw error;
    outcome = { failure: { serverId: server.id, outcome: error.outcome, message: error.message } };
  } finally {
    await changeActiveConnections(em, server.id, -1);
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const failure =
    'failure' in outcome
      ? {
          outcome: probeOutcomeOf(outcome.failure.outcome),
          latencyMs: null,
          protocolVersion: null,
          error: `tool call "${toolName}" failed: ${outcome.failure.message}`,
        }
      : null;
  const events = await recordCallOutcome(em.fork(), deps.health, server.id, { failure });
  publishHealthEvents(deps.pubSub, events);
  await recordToolCall(em, server.id, toolName, {
    succeeded: 'result' in outcome && !outcome.result.isError,
    durationMs,
  });
  if ('failure' in outcome) {
    return { failure: { ...outcome.failure, outcome: outcome.failure.outcome.toUpperCase() } };
  }
  return outcome;
}

/**
 * Raw SQL on purpose: a relative update cannot lose a concurrent one, and the identity map's copy is not
 * what is counted. The server was found inside the request's scope, so its id is the scope here.
 */
async function changeActiveConnections(em: EntityManager, serverId: string, delta: 1 | -1): Promise<void> {
  await em.execute(
    'update mcp_servers set active_connections = greatest(active_connections + ?, 0) where id = ?',
    [delta, serverId],
  );
}

/**
 * Counts one call of the tool on this server: a call the server did not answer and a result with `isError`
 * are errors. The average execution time is the exact running mean of the time the gateway spent on each
 * counted call; one relative statement, so concurrent calls lose no count.
 */
async function recordToolCall(
  em: EntityManager,
  serverId: string,
  toolName: string,
  call: { readonly succeeded: boolean; readonly durationMs: number },
): Promise<void> {
  await em.execute(
    `update server_tools set
       total_calls = total_calls + 1,
       success_count = success_count + ?,
       error_count = error_count + ?,
       avg_execution_time = case
         when avg_execution_time is null then ?
         else avg_execution_time + (? - avg_execution_time) / (total_calls + 1)
       end,
       updated_at = now()
     where server_id = ? and name = ?`,
    [call.succeeded ? 1 : 0, call.succeeded ? 0 : 1, call.durationMs, call.durationMs, serverId, toolName],
  );
}

/**
 * Every attempt failed. What failed (the upstream's address, its error) is told only to keys that may read the
 * servers anyway; a key that may only call tools (PROXY) learns which servers were tried and how they failed.
 */
function allAttemptsFailed(toolName: string, failures: FailedAttempt[], detailed: boolean): ApiError {
  const last = failures.at(-1);
  const shown = detailed ? failures : failures.map(({ serverId, outcome }) => ({ serverId, outcome }));
  return new ApiError(
    ErrorCode.SERVICE_UNAVAILABLE,
    `The tool "${toolName}" could not be called: ${failures.length} server(s) tried, none answered` +
      `${last && detailed ? ` (last: ${last.message})` : ''}.`,
    { reason: 'ALL_ATTEMPTS_FAILED', attempts: failures.length, failures: shown },
  );
}

function canReadServers(viewer: Viewer): boolean {
  return isAdmin(viewer) || viewer.scopes.has(ApiKeyScope.READ);
}
