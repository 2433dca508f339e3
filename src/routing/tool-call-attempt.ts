import type { AuditActor } from '../audit/audit-trail.js';
import type { AuditWrites } from '../audit/audit-writes.js';
import type { GatewaySettings, HealthSettings } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import { probeOutcomeOf } from '../health/probe.js';
import { publishHealthEvents, recordCallOutcome } from '../health/probe-recorder.js';
import {
  callTool as callMcpTool,
  type McpFailureOutcome,
  McpInspectionError,
  type McpTarget,
  type McpToolCallResult,
  type Progress,
  type UpstreamPool,
} from '../mcp/mcp-client.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { callTargetOf } from '../registry/capabilities.js';
import type { CallFigures } from './call-figures.js';
import type { RoutedServer } from './routed-servers.js';
import type { TenantRoutingRules } from './tenant-rules.js';

declare module '../graphql/context.js' {
  interface GraphQLContext {
    /** The process's sessions to upstream servers, which `callTool` reuses. */
    readonly upstreams: UpstreamPool;
    readonly callFigures: CallFigures;
    readonly routingRules: TenantRoutingRules;
  }
}

/** What the gateway needs besides the request's EntityManager. */
export interface GatewayDependencies {
  readonly viewer: Viewer;
  readonly actor: AuditActor;
  readonly keyring: Keyring;
  readonly pubSub: EventPublisher;
  readonly health: HealthSettings;
  readonly gateway: GatewaySettings;
  /** Sessions to upstream servers, reused across calls. */
  readonly upstreams: UpstreamPool;
  /** The tenants' active routing rules, kept by this instance. */
  readonly routingRules: TenantRoutingRules;
  /** Where each call's connection count, tool figures and quiet breaker successes are summed. */
  readonly callFigures: CallFigures;
  readonly metrics: Pick<Metrics, 'toolCalls' | 'toolCallDuration'>;
  /**
   * Where the call's audit row is written behind its answer (agents' calls, audit-writes.ts); without it the
   * row is committed before the answer is returned.
   */
  readonly auditWrites?: AuditWrites;
}

export interface FailedAttempt {
  readonly serverId: string;
  readonly outcome: string;
  readonly message: string;
}

/** The client cancelled the call while it was with a server: nothing is tried or counted further. */
export class CallCancelledError extends ApiError {
  constructor() {
    super(ErrorCode.CANCELLED, 'The call was cancelled by the client.');
  }
}

/** How one call is forwarded: the client's cancellation and its progress listener. */
export interface ForwardingOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

export type AttemptOutcome = { readonly result: McpToolCallResult } | { readonly failure: FailedAttempt };

interface McpFailure {
  readonly serverId: string;
  readonly outcome: McpFailureOutcome;
  readonly message: string;
}

/** The server an attempt goes to, and whether an answer from it can move its breaker's state. */
export interface AttemptTarget {
  readonly server: RoutedServer;
  /**
   * Its breaker was CLOSED with no failure counted when the call was routed: a success only adds to its
   * counts (written behind, call-figures.ts). Otherwise every outcome goes through the locked transaction.
   */
  readonly breakerAtRest: boolean;
}

/**
 * One attempt on one server: its connection count is raised for the duration of the call, the tool's figures
 * and the breaker record the outcome, and breaker changes are published. Counts are written behind the call
 * (call-figures.ts); an outcome that may move the breaker is applied before the attempt returns. Stored
 * headers that cannot be opened fail the attempt without contacting the server.
 */
export async function attempt(
  em: EntityManager,
  deps: GatewayDependencies,
  { server, breakerAtRest }: AttemptTarget,
  call: { readonly name: string; readonly arguments: Record<string, unknown> },
  forwarding: ForwardingOptions = {},
): Promise<AttemptOutcome> {
  const toolName = call.name;
  let target: McpTarget;
  try {
    target = callTargetOf(deps.keyring, server, deps.health.allowStdio);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      failure: { serverId: server.id, outcome: String(error.extensions.code), message: error.message },
    };
  }
  deps.callFigures.connectionChanged(server.id, +1);
  const startedAt = performance.now();
  let outcome: { readonly result: McpToolCallResult } | { readonly failure: McpFailure };
  try {
    const result = await callMcpTool(deps.upstreams, target, call, {
      timeoutMs: deps.gateway.callTimeoutMs,
      ...forwarding,
    });
    outcome = { result };
  } catch (error) {
    if (!(error instanceof McpInspectionError)) throw error;
    outcome = { failure: { serverId: server.id, outcome: error.outcome, message: error.message } };
  } finally {
    deps.callFigures.connectionChanged(server.id, -1);
  }
  // The client walked away: the server did nothing wrong, and no other server should be asked.
  if (forwarding.signal?.aborted === true && 'failure' in outcome) throw new CallCancelledError();
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
  if (failure === null && breakerAtRest) deps.callFigures.breakerSucceeded(server.id, new Date());
  else
    publishHealthEvents(deps.pubSub, await recordCallOutcome(em.fork(), deps.health, server.id, { failure }));
  deps.callFigures.toolCalled(server.id, toolName, {
    succeeded: 'result' in outcome && !outcome.result.isError,
    durationMs,
  });
  if ('failure' in outcome) {
    return { failure: { ...outcome.failure, outcome: outcome.failure.outcome.toUpperCase() } };
  }
  return outcome;
}
