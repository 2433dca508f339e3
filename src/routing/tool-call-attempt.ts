import type { AuditActor } from '../audit/audit-trail.js';
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
import type { MCPServer } from '../registry/mcp-server.entity.js';

declare module '../graphql/context.js' {
  interface GraphQLContext {
    /** The process's sessions to upstream servers, which `callTool` reuses. */
    readonly upstreams: UpstreamPool;
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
  readonly metrics: Pick<Metrics, 'toolCalls' | 'toolCallDuration'>;
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

/**
 * One attempt on one server: its connection count is raised for the duration of the call, its breaker and
 * the tool's figures record the outcome (atomically in SQL, so concurrent calls lose no count), and breaker
 * changes are published. Stored headers that cannot be opened fail the attempt without contacting the server.
 */
export async function attempt(
  em: EntityManager,
  deps: GatewayDependencies,
  server: MCPServer,
  call: { readonly name: string; readonly arguments: Record<string, unknown> },
  forwarding: ForwardingOptions = {},
): Promise<AttemptOutcome> {
  const toolName = call.name;
  let target: McpTarget;
  try {
    target = await callTargetOf(em, deps.keyring, server, deps.health.allowStdio);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      failure: { serverId: server.id, outcome: String(error.extensions.code), message: error.message },
    };
  }
  await changeActiveConnections(em, server.id, +1);
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
    await changeActiveConnections(em, server.id, -1);
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
