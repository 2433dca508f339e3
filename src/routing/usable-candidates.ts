import { ApiError, ErrorCode } from '../graphql/errors.js';
import { coolDownPassed } from '../health/circuit-breaker-machine.js';
import { mcpTransportOf } from '../registry/capabilities.js';
import { CircuitBreakerState, ServerStatus } from '../registry/registry.enums.js';
import type { RoutedServer } from './routed-servers.js';
import type { ServerCandidate } from './tool-route.js';

// Which candidates the gateway may call now, and the trial gate of servers whose breaker is recovering.

/** Why a candidate was not tried. */
type SkipReason = 'CIRCUIT_OPEN' | 'CIRCUIT_TRIAL_IN_FLIGHT' | 'MAINTENANCE' | 'TRANSPORT_NOT_CALLABLE';

/**
 * Servers whose breaker is on trial (HALF_OPEN, or OPEN with its cool-down passed) and that have a trial call in
 * flight from this instance: the next calls skip them until it ends, so a recovering server gets one call at a
 * time per instance rather than all the traffic at once.
 */
const trialsInFlight = new Set<string>();

/** Whether a trial call to this server is in flight from this instance (the next calls skip it). */
export function trialInFlight(serverId: string): boolean {
  return trialsInFlight.has(serverId);
}

/** Runs `call` as the one trial call of an on-trial candidate (and plainly for any other). */
export async function throughTrialGate<T>(candidate: UsableCandidate, call: () => Promise<T>): Promise<T> {
  if (!candidate.onTrial) return call();
  trialsInFlight.add(candidate.serverId);
  try {
    return await call();
  } finally {
    trialsInFlight.delete(candidate.serverId);
  }
}

/**
 * A candidate the gateway may call now; `onTrial` when its breaker lets calls through one at a time,
 * `breakerAtRest` when it is CLOSED with no failure counted (a success cannot move it).
 */
export interface UsableCandidate extends ServerCandidate {
  readonly onTrial: boolean;
  readonly breakerAtRest: boolean;
}

export const TRIAL_IN_FLIGHT: SkipReason = 'CIRCUIT_TRIAL_IN_FLIGHT';

/**
 * The candidates the gateway may try. An OPEN circuit is skipped until its cool-down has passed; after it (and
 * while HALF_OPEN) the server is on trial: one call at a time goes through. None left: SERVICE_UNAVAILABLE,
 * saying why each was skipped.
 */
export function usableCandidates(candidates: ServerCandidate[], allowStdio: boolean): UsableCandidate[] {
  const now = new Date();
  const skipped: Skipped[] = [];
  const usable: UsableCandidate[] = [];
  for (const candidate of candidates) {
    const { breaker } = candidate.server;
    const reason = skipReasonOf(candidate.server, breaker, allowStdio, now);
    if (reason !== null) skipped.push({ serverId: candidate.serverId, reason });
    else
      usable.push({
        ...candidate,
        onTrial: breaker !== null && breaker.state !== CircuitBreakerState.CLOSED,
        breakerAtRest:
          breaker === null || (breaker.state === CircuitBreakerState.CLOSED && breaker.failureCount === 0),
      });
  }
  if (usable.length > 0) return usable;
  throw unavailable(skipped);
}

interface Skipped {
  readonly serverId: string;
  readonly reason: SkipReason;
}

export function unavailable(skipped: readonly Skipped[]): ApiError {
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
  server: RoutedServer,
  breaker: RoutedServer['breaker'],
  allowStdio: boolean,
  now: Date,
): SkipReason | null {
  if (mcpTransportOf(server.transportType, allowStdio) === null) return 'TRANSPORT_NOT_CALLABLE';
  if (server.healthStatus === ServerStatus.MAINTENANCE) return 'MAINTENANCE';
  if (breaker?.state === CircuitBreakerState.OPEN && !coolDownPassed(breaker, now)) return 'CIRCUIT_OPEN';
  return null;
}
