import type { AgentResult, AgentRun } from './agents.js';
import { bytes, fixed, percent, textTable, whole } from './format.js';
import type { LoadRun } from './load.js';
import type { ProfileSummary } from './profile.js';
import type { HttpScenarioResult, TargetVerdict } from './results.js';
import type { MemoryReadings, SubscriptionResult } from './subscriptions.js';
import { cpuPerRequest, type Spread, summariseRuns } from './summary.js';

export const RUN_HEADERS = [
  'connections',
  'run',
  'req/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'errors',
  'bytes/resp',
  'SQL/req',
  'req/CPU-s',
  'server CPU ms/req',
  'PG CPU ms/req',
  'CPU ms/req',
  'client CPU s',
];

export function runRows(scenario: HttpScenarioResult): string[][] {
  const seen = new Map<number, number>();
  return scenario.runs.map((run: LoadRun) => {
    const index = (seen.get(run.connections) ?? 0) + 1;
    seen.set(run.connections, index);
    const cpu = cpuPerRequest(run);
    return [
      String(run.connections),
      String(index),
      fixed(run.requestsPerSecond),
      fixed(run.latencyMs.p50),
      fixed(run.latencyMs.p95),
      fixed(run.latencyMs.p99),
      whole(run.errors),
      bytes(run.bytesPerResponse),
      whole(scenario.statementsPerRequest),
      fixed(run.requestsPerCpuSecond),
      fixed(cpu.serverMs, 2),
      fixed(cpu.postgresMs, 2),
      fixed(cpu.totalMs, 2),
      fixed(run.loadGeneratorCpuSeconds, 2),
    ];
  });
}

export const SUMMARY_HEADERS = [
  'connections',
  'runs',
  'req/s',
  'p50 ms',
  'p99 ms',
  'server CPU ms/req',
  'PG CPU ms/req',
  'CPU ms/req',
];

/** Per connection count: the median of the runs, and in brackets their lowest and highest. */
export function summaryRows(scenario: HttpScenarioResult): string[][] {
  const shown = ({ median, min, max }: Spread, digits = 1) =>
    `${fixed(median, digits)} (${fixed(min, digits)}–${fixed(max, digits)})`;
  return summariseRuns(scenario.runs).map((summary) => [
    String(summary.connections),
    String(summary.runs),
    shown(summary.requestsPerSecond),
    shown(summary.p50Ms),
    shown(summary.p99Ms),
    shown(summary.serverCpuMs, 2),
    shown(summary.postgresCpuMs, 2),
    shown(summary.totalCpuMs, 2),
  ]);
}

export const AGENT_HEADERS = [
  'what',
  'connections',
  'req/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'errors',
  'gateway CPU s',
  'req/CPU-s',
];

/** Direct and gateway runs side by side, then the added latency per connection count, then tools/list. */
export function agentRows(result: AgentResult): string[][] {
  const row = (what: string, run: AgentRun) => [
    what,
    String(run.connections),
    fixed(run.requests / run.seconds),
    fixed(run.latencyMs.p50, 2),
    fixed(run.latencyMs.p95, 2),
    fixed(run.latencyMs.p99, 2),
    whole(run.errors),
    run.serverCpuSeconds > 0 ? fixed(run.serverCpuSeconds, 2) : '-',
    run.serverCpuSeconds > 0 ? fixed(run.requestsPerServerCpuSecond) : '-',
  ];
  const rows: string[][] = [];
  result.direct.forEach((direct, index) => {
    const gateway = result.gateway[index];
    rows.push(row('tools/call, upstream directly', direct));
    if (gateway === undefined) return;
    rows.push(row('tools/call through the gateway', gateway));
    rows.push([
      'added by the gateway',
      String(direct.connections),
      '',
      fixed(gateway.latencyMs.p50 - direct.latencyMs.p50, 2),
      fixed(gateway.latencyMs.p95 - direct.latencyMs.p95, 2),
      fixed(gateway.latencyMs.p99 - direct.latencyMs.p99, 2),
      '',
      '',
      '',
    ]);
  });
  rows.push(row(`tools/list, all ${result.tools} tools`, result.list));
  return rows;
}

export function printAgents(result: AgentResult): void {
  console.log(`
Agents: a virtual server's /mcp/{id} against its upstream (${result.upstream})`);
  console.log(textTable(AGENT_HEADERS, agentRows(result), 1));
}

export function subscriptionRows(result: SubscriptionResult): string[][] {
  const ms = (value: number) => `${fixed(value)} ms`;
  return [
    ['subscribers (graphql-ws, one socket each)', whole(result.subscribers)],
    ['tenant / first states per subscriber', `${result.tenant} / ${whole(result.snapshotEvents)}`],
    ['time to subscribe all and deliver first states', `${fixed(result.subscribeSeconds)} s`],
    ['burst: resetCircuitBreaker mutations sent at once', whole(result.burst)],
    ['mutation latency p50 / p99', `${ms(result.mutationMs.p50)} / ${ms(result.mutationMs.p99)}`],
    [
      'changes delivered / expected',
      `${whole(result.deliveries.received)} / ${whole(result.deliveries.expected)}`,
    ],
    [
      'delivery from the change (changedAt) p50 / p95 / p99 / max',
      [
        result.latencyFromChangeMs.p50,
        result.latencyFromChangeMs.p95,
        result.latencyFromChangeMs.p99,
        result.latencyFromChangeMs.max,
      ]
        .map(ms)
        .join(' / '),
    ],
    [
      'delivery from sending the mutation p50 / p95 / p99 / max',
      [
        result.latencyFromRequestMs.p50,
        result.latencyFromRequestMs.p95,
        result.latencyFromRequestMs.p99,
        result.latencyFromRequestMs.max,
      ]
        .map(ms)
        .join(' / '),
    ],
    [
      'delivery after the response p50 / p99',
      `${ms(result.latencyFromResponseMs.p50)} / ${ms(result.latencyFromResponseMs.p99)}`,
    ],
    ['first mutation sent → last change received', `${fixed(result.burstSeconds, 2)} s`],
    ['server CPU during the burst', `${fixed(result.serverCpuSeconds, 2)} s`],
    ...(result.eventLoopDelayMs === undefined
      ? []
      : [
          [
            'server event-loop delay during the burst p50 / p99 / max',
            [result.eventLoopDelayMs.p50, result.eventLoopDelayMs.p99, result.eventLoopDelayMs.max]
              .map(ms)
              .join(' / '),
          ],
        ]),
    ['server RSS: before / subscribed / after burst / after close', memoryRow(result.rssBytes)],
    ...(result.heapBytes === undefined
      ? []
      : [
          [
            'server heap after a full GC: before / subscribed / after burst / after close',
            memoryRow(result.heapBytes),
          ],
        ]),
    ['subscription errors', whole(result.errors.length)],
  ];
}

function memoryRow(readings: MemoryReadings): string {
  return [readings.before, readings.subscribed, readings.afterBurst, readings.afterClose]
    .map(bytes)
    .join(' / ');
}

export function targetRows(verdicts: readonly TargetVerdict[]): string[][] {
  return verdicts.map((verdict) => [
    verdict.target,
    verdict.measured,
    verdict.met === null ? 'not measured' : verdict.met ? 'met' : 'NOT met',
  ]);
}

export function profileRows(
  profile: ProfileSummary,
  part: 'byOrigin' | 'topFunctions',
  limit: number,
): string[][] {
  return profile[part].slice(0, limit).map((entry) => [entry.name, fixed(entry.ms, 0), percent(entry.share)]);
}

export function printScenario(scenario: HttpScenarioResult): void {
  console.log(`\n${scenario.title}: ${scenario.description}`);
  console.log(`checked: ${scenario.check}`);
  console.log(textTable(RUN_HEADERS, runRows(scenario)));
  console.log('median (lowest–highest) of the runs');
  console.log(textTable(SUMMARY_HEADERS, summaryRows(scenario)));
  const failed = scenario.runs.find((run) => run.errorDetail.sample !== null);
  if (failed) console.log(`first error: ${failed.errorDetail.sample}`);
}

export function printSubscriptions(result: SubscriptionResult): void {
  console.log(`\nSubscriptions: circuitBreakerChanged (no serverId) with a tenant key`);
  console.log(textTable(['measure', 'value'], subscriptionRows(result), 2));
}

export function printProfile(profile: ProfileSummary): void {
  console.log(
    `\nServerList CPU profile (20 connections, ${fixed(profile.seconds)} s, busy ${percent(profile.busyShare)})`,
  );
  console.log(textTable(['self time by origin', 'ms', 'share'], profileRows(profile, 'byOrigin', 12)));
  console.log(textTable(['function', 'ms', 'share'], profileRows(profile, 'topFunctions', 15)));
}

export function printTargets(verdicts: readonly TargetVerdict[]): void {
  console.log('\nTargets (issues 6, 12, 13, 15)');
  console.log(textTable(['target', 'measured', 'verdict'], targetRows(verdicts), 3));
}
