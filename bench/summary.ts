import type { LoadRun } from './load.js';
import { median } from './stats.js';

// A scenario runs several times at each connection count (--repeat): what a table or a target reads of those
// runs is their median, with the spread beside it, since one run on a shared 2-core machine can be off by a third.

/** The median of some runs' values, and the lowest and highest of them. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** CPU one request cost: the server process, the PostgreSQL backends serving it, and both (milliseconds). */
export interface CpuPerRequest {
  readonly serverMs: number;
  readonly postgresMs: number;
  readonly totalMs: number;
}

/** The runs of a scenario at one connection count. */
export interface RunSummary {
  readonly connections: number;
  readonly runs: number;
  readonly requestsPerSecond: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  readonly requestsPerCpuSecond: Spread;
  readonly serverCpuMs: Spread;
  readonly postgresCpuMs: Spread;
  readonly totalCpuMs: Spread;
}

export function cpuPerRequest(run: LoadRun): CpuPerRequest {
  const perRequest = (seconds: number) => (run.requests > 0 ? (seconds * 1000) / run.requests : Number.NaN);
  const serverMs = perRequest(run.serverCpuSeconds);
  const postgresMs = perRequest(run.postgresCpuSeconds);
  return { serverMs, postgresMs, totalMs: serverMs + postgresMs };
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The runs grouped by connection count, fewest connections first. */
export function summariseRuns(runs: readonly LoadRun[]): RunSummary[] {
  const counts = [...new Set(runs.map((run) => run.connections))].sort((a, b) => a - b);
  return counts.map((connections) => {
    const group = runs.filter((run) => run.connections === connections);
    const cpu = group.map(cpuPerRequest);
    return {
      connections,
      runs: group.length,
      requestsPerSecond: spread(group.map((run) => run.requestsPerSecond)),
      p50Ms: spread(group.map((run) => run.latencyMs.p50)),
      p99Ms: spread(group.map((run) => run.latencyMs.p99)),
      requestsPerCpuSecond: spread(group.map((run) => run.requestsPerCpuSecond)),
      serverCpuMs: spread(cpu.map((entry) => entry.serverMs)),
      postgresCpuMs: spread(cpu.map((entry) => entry.postgresMs)),
      totalCpuMs: spread(cpu.map((entry) => entry.totalMs)),
    };
  });
}

/** The summary of `runs` at `connections`, if any ran there. */
export function summaryAt(runs: readonly LoadRun[], connections: number): RunSummary | undefined {
  return summariseRuns(runs).find((summary) => summary.connections === connections);
}
