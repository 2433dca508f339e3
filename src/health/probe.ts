import type { HealthSettings } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { type McpProbeOutcome, probeServer } from '../mcp/mcp-client.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { mcpTransportOf } from '../registry/capabilities.js';
import { TransportType } from '../registry/registry.enums.js';
import { ProbeOutcome } from './health-check.entity.js';
import type { ProbeResult } from './health-status.js';
import { publishHealthEvents, recordProbe } from './probe-recorder.js';

/** Where and how to reach a server for a probe. */
export interface ProbeTarget {
  readonly serverId: string;
  readonly endpointUrl: string;
  readonly transportType: TransportType;
  readonly headers: Record<string, string> | null;
}

/** Transports the registry probes; see `mcpTransportOf`. */
export function probedTransports(allowStdio: boolean): TransportType[] {
  return Object.values(TransportType).filter((type) => mcpTransportOf(type, allowStdio) !== null);
}

/** What a probe needs of the health settings. */
export type ProbeSettings = Pick<HealthSettings, 'timeoutMs' | 'allowStdio'>;

const OUTCOMES: Record<McpProbeOutcome, ProbeOutcome> = {
  ok: ProbeOutcome.OK,
  timeout: ProbeOutcome.TIMEOUT,
  unreachable: ProbeOutcome.UNREACHABLE,
  auth_failed: ProbeOutcome.AUTH_FAILED,
  protocol_error: ProbeOutcome.PROTOCOL_ERROR,
};

/** The health history's outcome for what an exchange with an MCP server found. */
export function probeOutcomeOf(outcome: McpProbeOutcome): ProbeOutcome {
  return OUTCOMES[outcome];
}

/** One real MCP exchange with the server (never a bare GET); problems of the server become outcomes. */
export async function probe(target: ProbeTarget, settings: ProbeSettings): Promise<ProbeResult> {
  const transport = mcpTransportOf(target.transportType, settings.allowStdio);
  if (transport === null) {
    const unless = target.transportType === TransportType.STDIO ? ' unless ALLOW_STDIO=true' : '';
    return {
      outcome: ProbeOutcome.PROTOCOL_ERROR,
      latencyMs: null,
      protocolVersion: null,
      error: `${target.transportType.toUpperCase()} servers are not probed${unless}`,
    };
  }
  const result = await probeServer(
    { endpointUrl: target.endpointUrl, transport, headers: target.headers, serverId: target.serverId },
    { timeoutMs: settings.timeoutMs },
  );
  return {
    outcome: probeOutcomeOf(result.outcome),
    latencyMs: result.outcome === 'ok' ? result.latencyMs : null,
    protocolVersion: result.protocolVersion,
    error: result.error ?? null,
  };
}

/** Probes a server, records the result and publishes what changed. */
export async function checkServer(
  em: EntityManager,
  pubSub: EventPublisher,
  settings: HealthSettings,
  target: ProbeTarget,
): Promise<ProbeOutcome> {
  const result = await probe(target, settings);
  publishHealthEvents(pubSub, await recordProbe(em, settings, target.serverId, result));
  return result.outcome;
}

/**
 * Records a failed probe for a server that was not contacted because its stored credentials cannot be opened
 * (a request without them would only be refused, or worse, accepted as anonymous), and publishes what changed.
 */
export async function recordUncontactedServer(
  em: EntityManager,
  pubSub: EventPublisher,
  settings: HealthSettings,
  serverId: string,
  reason: string,
): Promise<ProbeOutcome> {
  const result: ProbeResult = {
    outcome: ProbeOutcome.AUTH_FAILED,
    latencyMs: null,
    protocolVersion: null,
    error: `not probed: ${reason}`,
  };
  publishHealthEvents(pubSub, await recordProbe(em, settings, serverId, result));
  return result.outcome;
}
