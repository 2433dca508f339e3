import { type AuditEntry, auditFailure, auditSuccess } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import { ApiKeyScope, isAdmin, type Viewer } from '../graphql/access.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import type { JsonObject, JsonValue } from '../graphql/scalars.js';
import { requireJsonObject, requireName } from '../graphql/validate.js';
import type { Progress } from '../mcp/mcp-client.js';
import type { ToolCallOutcome } from '../observability/metrics.js';
import { canonicalJson, orderCandidates } from './load-balancing.js';
import type { RoutedServer } from './routed-servers.js';
import type { CallToolResult } from './routing.inputs.js';
import { attempt, type FailedAttempt, type GatewayDependencies } from './tool-call-attempt.js';
import { type RouteScope, routeOf } from './tool-route.js';
import {
  TRIAL_IN_FLIGHT,
  throughTrialGate,
  trialInFlight,
  unavailable,
  usableCandidates,
} from './usable-candidates.js';

const MAX_ARGUMENTS_BYTES = 256 * 1024;

/** A tool call for a client: `callTool`'s input, or an agent's call to a virtual server's tool. */
export interface GatewayToolCall {
  /** The upstream tool's own name. */
  readonly toolName: string;
  /** A JSON object (checked here); none is `{}`. */
  readonly arguments?: unknown;
  /** Only this server may take the call (no fail-over). */
  readonly serverId?: string | null;
  /** A virtual server's call: its members offering the tool may take it, the named one first. */
  readonly virtualServer?: {
    readonly id: string;
    readonly offeringServers: readonly RoutedServer[];
    readonly preferredServerId: string;
  };
  /** The client's cancellation; a cancelled call tries no further server and counts against none. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

function scopeOf(call: GatewayToolCall): RouteScope {
  if (call.serverId != null) return { kind: 'server', serverId: call.serverId };
  if (call.virtualServer !== undefined) {
    const { offeringServers, preferredServerId } = call.virtualServer;
    return { kind: 'members', servers: offeringServers, preferredServerId };
  }
  return { kind: 'any' };
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
  input: GatewayToolCall,
): Promise<CallToolResult> {
  const via = input.virtualServer === undefined ? 'graphql' : 'mcp';
  const startedAt = performance.now();
  const count = (outcome: ToolCallOutcome) => {
    deps.metrics.toolCalls.inc({ via, outcome });
    deps.metrics.toolCallDuration.observe({ via }, (performance.now() - startedAt) / 1000);
  };
  try {
    const result = await routeAndCall(em, deps, input);
    count(result.isError ? 'tool_error' : 'ok');
    return result;
  } catch (error) {
    count(outcomeOfFailure(error));
    throw error;
  }
}

function outcomeOfFailure(error: unknown): ToolCallOutcome {
  if (!(error instanceof ApiError)) return 'failed';
  if (error.extensions.code === ErrorCode.CANCELLED) return 'cancelled';
  if (error.extensions.code !== ErrorCode.SERVICE_UNAVAILABLE) return 'refused';
  return error.extensions.reason === 'ALL_ATTEMPTS_FAILED' ? 'failed' : 'unavailable';
}

async function routeAndCall(
  em: EntityManager,
  deps: GatewayDependencies,
  input: GatewayToolCall,
): Promise<CallToolResult> {
  const toolName = requireName(input.toolName, 'toolName');
  const named: JsonObject =
    input.virtualServer === undefined ? {} : { virtualServerId: input.virtualServer.id };
  const entry = { action: 'tool.call', resourceType: 'server', details: { toolName, ...named } };
  let lastServerId: string | null = null;
  let attempts = 0;
  try {
    const args =
      input.arguments == null ? {} : requireJsonObject(input.arguments, 'arguments', MAX_ARGUMENTS_BYTES);
    const route = await routeOf(em, deps.routingRules, deps.viewer, toolName, args, scopeOf(input));
    const usable = usableCandidates(route.candidates, deps.health.allowStdio).map((candidate) => ({
      ...candidate,
      activeConnections: deps.callFigures.activeConnections(candidate.serverId, candidate.activeConnections),
    }));
    const ordered = orderCandidates(usable, {
      strategy: route.strategy,
      counterKey: route.counterKey,
      hashKey: `${toolName}\u0000${canonicalJson(args)}`,
      ...(route.preferredServerId !== undefined && { preferredServerId: route.preferredServerId }),
    }).slice(0, deps.gateway.maxAttempts);

    const failures: FailedAttempt[] = [];
    for (const candidate of ordered) {
      if (candidate.onTrial && trialInFlight(candidate.serverId)) continue;
      attempts += 1;
      lastServerId = candidate.serverId;
      const answer = await throughTrialGate(candidate, () =>
        attempt(em, deps, candidate, { name: toolName, arguments: args }, input),
      );
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
      const succeeded: AuditEntry = {
        ...entry,
        resourceId: candidate.serverId,
        details: {
          toolName,
          ...named,
          attempts,
          outcome: answer.result.isError ? 'tool_error' : 'ok',
          durationMs: answer.result.latencyMs,
        },
      };
      await audit(deps, succeeded, () => auditSuccess(em, deps.actor, succeeded));
      return result;
    }
    if (attempts === 0)
      throw unavailable(ordered.map(({ serverId }) => ({ serverId, reason: TRIAL_IN_FLIGHT })));
    throw allAttemptsFailed(toolName, failures, canReadServers(deps.viewer));
  } catch (error) {
    const failed: AuditEntry = {
      ...entry,
      resourceId: lastServerId,
      details: { toolName, ...named, attempts },
    };
    await audit(deps, failed, () => auditFailure(em, deps.actor, failed, error));
    throw error;
  }
}

/** Writes the call's audit row: before the answer, or behind it when the caller tracks writes behind. */
function audit(deps: GatewayDependencies, entry: AuditEntry, write: () => Promise<void>): Promise<void> {
  if (deps.auditWrites === undefined) return write();
  deps.auditWrites.behind({ ...entry, tenantId: deps.actor.tenantId }, write);
  return Promise.resolve();
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
