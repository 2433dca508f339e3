import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ProbeOutcome } from '../src/health/health-check.entity.js';
import { applyProbe, type ProbeResult } from '../src/health/health-status.js';
import { ServerStatus } from '../src/registry/registry.enums.js';

const settings = { ...loadConfig({}).health, unhealthyAfter: 3, healthyAfter: 2, degradedLatencyMs: 500 };
const ok = (latencyMs = 50): ProbeResult => ({
  outcome: ProbeOutcome.OK,
  latencyMs,
  protocolVersion: '2025-11-25',
  error: null,
});
const fail: ProbeResult = {
  outcome: ProbeOutcome.UNREACHABLE,
  latencyMs: null,
  protocolVersion: null,
  error: 'refused',
};

function server(status = ServerStatus.UNKNOWN) {
  return {
    healthStatus: status,
    avgResponseTime: null as number | null,
    successRate: 1,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
  };
}

function run(target: ReturnType<typeof server>, probes: ProbeResult[]): ServerStatus[] {
  return probes.map((probe) => {
    applyProbe(target, probe, settings);
    return target.healthStatus;
  });
}

describe('health status', () => {
  it('judges a new server on its first answer', () => {
    expect(run(server(), [ok()])).toEqual([ServerStatus.HEALTHY]);
    expect(run(server(), [ok(900)])).toEqual([ServerStatus.DEGRADED]);
  });

  it('goes UNHEALTHY only after the configured consecutive failures, degrading on the way', () => {
    expect(run(server(ServerStatus.HEALTHY), [fail, fail, fail])).toEqual([
      ServerStatus.DEGRADED,
      ServerStatus.DEGRADED,
      ServerStatus.UNHEALTHY,
    ]);
  });

  it('comes back only after the configured consecutive successes', () => {
    const target = server(ServerStatus.HEALTHY);
    run(target, [fail, fail, fail]);
    expect(run(target, [ok(), fail, ok(), ok()])).toEqual([
      ServerStatus.UNHEALTHY,
      ServerStatus.UNHEALTHY,
      ServerStatus.UNHEALTHY,
      ServerStatus.HEALTHY,
    ]);
  });

  it('is DEGRADED while its average latency is slow, HEALTHY again once it is fast', () => {
    const target = server(ServerStatus.HEALTHY);
    const latencies = [100, 3000, 100, 100, 100];
    expect(
      run(
        target,
        latencies.map((latency) => ok(latency)),
      ),
    ).toEqual([
      ServerStatus.HEALTHY,
      ServerStatus.DEGRADED, // average 970 ms
      ServerStatus.DEGRADED, // 709 ms
      ServerStatus.DEGRADED, // 526 ms
      ServerStatus.HEALTHY, // 398 ms
    ]);
    const expected = latencies.slice(1).reduce((average, latency) => average * 0.7 + latency * 0.3, 100);
    expect(target.avgResponseTime).toBeCloseTo(expected, 9);
    expect(target.successRate).toBe(1);
  });

  it('never moves a server out of MAINTENANCE', () => {
    expect(run(server(ServerStatus.MAINTENANCE), [fail, fail, fail, ok(), ok()])).toEqual(
      Array(5).fill(ServerStatus.MAINTENANCE),
    );
  });
});
