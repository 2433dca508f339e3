import { describe, expect, it } from 'vitest';
import { coolDown, recordResult, reset } from '../src/health/circuit-breaker-machine.js';
import { CircuitBreakerState } from '../src/registry/registry.enums.js';

function breaker() {
  return {
    state: CircuitBreakerState.CLOSED,
    failureCount: 0,
    successCount: 0,
    failureThreshold: 3,
    successThreshold: 2,
    openTimeoutMs: 1000,
    openedAt: null as Date | null,
    lastFailureAt: null as Date | null,
    lastSuccessAt: null as Date | null,
    totalRequests: 0,
    totalFailures: 0,
    totalSuccesses: 0,
  };
}

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe('circuit breaker', () => {
  it('opens after failureThreshold consecutive failures, not after interrupted ones', () => {
    const b = breaker();
    recordResult(b, false, at(0));
    recordResult(b, false, at(1));
    recordResult(b, true, at(2));
    recordResult(b, false, at(3));
    recordResult(b, false, at(4));
    expect(b.state).toBe(CircuitBreakerState.CLOSED);
    recordResult(b, false, at(5));
    expect(b).toMatchObject({
      state: CircuitBreakerState.OPEN,
      openedAt: at(5),
      totalRequests: 6,
      totalFailures: 5,
    });
  });

  it('stays open through its cool-down whatever happens, then half-opens', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) recordResult(b, false, at(i));
    recordResult(b, true, at(500));
    expect(b.state).toBe(CircuitBreakerState.OPEN);
    expect(coolDown(b, at(999))).toBe(false);
    expect(coolDown(b, at(1002))).toBe(true);
    expect(b.state).toBe(CircuitBreakerState.HALF_OPEN);
  });

  it('closes after successThreshold successes in HALF_OPEN, and reopens on a failure there', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) recordResult(b, false, at(i));
    recordResult(b, true, at(2000)); // cool-down passed: HALF_OPEN, first success
    expect(b.state).toBe(CircuitBreakerState.HALF_OPEN);
    recordResult(b, false, at(2001));
    expect(b).toMatchObject({ state: CircuitBreakerState.OPEN, openedAt: at(2001) });
    recordResult(b, true, at(3100));
    recordResult(b, true, at(3200));
    expect(b).toMatchObject({ state: CircuitBreakerState.CLOSED, failureCount: 0, openedAt: null });
  });

  it('can be reset by hand', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) recordResult(b, false, at(i));
    reset(b);
    expect(b).toMatchObject({ state: CircuitBreakerState.CLOSED, failureCount: 0, openedAt: null });
  });
});
