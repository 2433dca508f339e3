import type { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { CircuitBreakerState } from '../registry/registry.enums.js';

/**
 * The circuit breaker state machine, over the persisted CircuitBreaker row:
 * CLOSED -> OPEN after `failureThreshold` consecutive failures; OPEN -> HALF_OPEN once `openTimeoutMs` has
 * passed; HALF_OPEN -> CLOSED after `successThreshold` consecutive successes, back to OPEN on any failure.
 */

type BreakerFields = Pick<
  CircuitBreaker,
  | 'state'
  | 'failureCount'
  | 'successCount'
  | 'failureThreshold'
  | 'successThreshold'
  | 'openTimeoutMs'
  | 'openedAt'
  | 'lastFailureAt'
  | 'lastSuccessAt'
  | 'totalRequests'
  | 'totalFailures'
  | 'totalSuccesses'
>;

/** Whether the circuit is OPEN and its cool-down has passed (it lets a trial call through). */
export function coolDownPassed(
  breaker: Pick<BreakerFields, 'state' | 'openedAt' | 'openTimeoutMs'>,
  now: Date,
): boolean {
  if (breaker.state !== CircuitBreakerState.OPEN || breaker.openedAt === null) return false;
  return now.getTime() - breaker.openedAt.getTime() >= breaker.openTimeoutMs;
}

/** Moves an OPEN circuit whose cool-down has passed to HALF_OPEN. Returns whether the state changed. */
export function coolDown(breaker: BreakerFields, now: Date): boolean {
  if (!coolDownPassed(breaker, now)) return false;
  breaker.state = CircuitBreakerState.HALF_OPEN;
  breaker.successCount = 0;
  return true;
}

/**
 * Applies the outcome of one probe or call. A result that arrives while the circuit is OPEN and cooling down
 * is counted but moves nothing: only the cool-down reopens the way.
 */
export function recordResult(breaker: BreakerFields, success: boolean, now: Date): void {
  coolDown(breaker, now);
  breaker.totalRequests += 1;
  if (success) {
    breaker.totalSuccesses += 1;
    breaker.lastSuccessAt = now;
    breaker.failureCount = 0;
    if (breaker.state === CircuitBreakerState.HALF_OPEN) {
      breaker.successCount += 1;
      if (breaker.successCount >= breaker.successThreshold) close(breaker);
    }
    return;
  }
  breaker.totalFailures += 1;
  breaker.lastFailureAt = now;
  breaker.successCount = 0;
  if (breaker.state === CircuitBreakerState.HALF_OPEN) {
    open(breaker, now);
  } else if (breaker.state === CircuitBreakerState.CLOSED) {
    breaker.failureCount += 1;
    if (breaker.failureCount >= breaker.failureThreshold) open(breaker, now);
  }
}

/** Closes the circuit by hand (resetCircuitBreaker). */
export function reset(breaker: BreakerFields): void {
  close(breaker);
}

function open(breaker: BreakerFields, now: Date): void {
  breaker.state = CircuitBreakerState.OPEN;
  breaker.openedAt = now;
  breaker.successCount = 0;
}

function close(breaker: BreakerFields): void {
  breaker.state = CircuitBreakerState.CLOSED;
  breaker.failureCount = 0;
  breaker.successCount = 0;
  breaker.openedAt = null;
}
