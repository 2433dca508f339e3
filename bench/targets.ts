import type { AgentResult } from './agents.js';
import type { ExplainedStatement } from './explain.js';
import { bytes, fixed, whole } from './format.js';
import type { ScenarioName } from './options.js';
import type { HttpScenarioResult, TargetVerdict } from './results.js';
import type { SubscriptionResult } from './subscriptions.js';
import { type RunSummary, summaryAt } from './summary.js';

/** Tables too large to read whole on a dashboard request. */
const LARGE_TABLES = ['request_logs', 'server_tools', 'health_checks', 'audit_logs'];
/** Memory the burst may add to the server and still count as bounded. */
const BURST_MEMORY_BUDGET = 64 * 1024 * 1024;
/** Issue 13: the burst's own mutations are served while its changes fan out. */
const SUBSCRIPTION_MUTATION_TARGET = "Subscriptions: the burst's resetCircuitBreaker mutations p99 < 200 ms";
const SUBSCRIPTION_LOOP_TARGET = "Subscriptions: the server's event-loop delay during the burst p99 < 50 ms";

interface Measured {
  readonly scenarios: readonly HttpScenarioResult[];
  /** The ServerList scenarios run again on the hand-written reference server. */
  readonly references: readonly HttpScenarioResult[];
  readonly explains: readonly ExplainedStatement[];
  readonly subscriptions: SubscriptionResult | null;
  readonly agents: AgentResult | null;
}

export function evaluateTargets({
  scenarios,
  references,
  explains,
  subscriptions,
  agents,
}: Measured): TargetVerdict[] {
  const at = (name: ScenarioName, connections: number): RunSummary | undefined => {
    const scenario = scenarios.find((candidate) => candidate.name === name);
    return scenario && summaryAt(scenario.runs, connections);
  };
  const statements = (name: ScenarioName) =>
    scenarios.find((scenario) => scenario.name === name)?.statementsPerRequest;
  const referenceAt = (name: ScenarioName, connections: number) => {
    const run = references.find((candidate) => candidate.name === name);
    return run && summaryAt(run.runs, connections);
  };
  const verdicts: TargetVerdict[] = [
    // Issue 13: the dashboard's page at a total CPU (server + PostgreSQL) below the best generated layer's.
    cpuAtMost(
      'ServerList, 20 connections: server + PostgreSQL CPU ≤ 14 ms per request',
      at('server-list', 20),
      14,
    ),
    cpuAtMost(
      'ServerListWithToolSchemas, 20 connections: server + PostgreSQL CPU ≤ 32 ms per request',
      at('server-list-schemas', 20),
      32,
    ),
    latencyAtMost('ServerList, 1 connection: p50 ≤ 12 ms, p99 ≤ 30 ms', at('server-list', 1), 12, 30),
    atMost('ServerList: ≤ 3 SQL statements per request', statements('server-list'), 3, 'statements'),
    atMost(
      'ServerListWithToolSchemas: ≤ 3 SQL statements per request',
      statements('server-list-schemas'),
      3,
      'statements',
    ),
    // Issue 6, on the page with tool schemas (what it measured).
    atLeast(
      'ServerListWithToolSchemas, 20 connections: ≥ 60 requests per server CPU-second',
      at('server-list-schemas', 20)?.requestsPerCpuSecond.median,
      60,
      'req/CPU-s',
    ),
    relativeToReference(
      at('server-list-schemas', 20)?.requestsPerCpuSecond.median,
      referenceAt('server-list-schemas', 20)?.requestsPerCpuSecond.median,
    ),
    below('DiscoverServers, 1 connection: p99 < 50 ms', at('discover', 1)?.p99Ms.median, 50),
    below('DashboardOverview, 1 connection: p99 < 200 ms', at('dashboard', 1)?.p99Ms.median, 200),
    indexVerdict(explains.filter((statement) => statement.scenario !== 'search')),
    below('SearchTools over every seeded tool, 1 connection: p99 < 30 ms', at('search', 1)?.p99Ms.median, 30),
    searchIndexVerdict(explains.filter((statement) => statement.scenario === 'search')),
  ];
  if (subscriptions === null) {
    verdicts.push(
      { target: 'Subscriptions: p99 delivery < 250 ms', measured: 'not measured', met: null },
      { target: 'Subscriptions: memory bounded', measured: 'not measured', met: null },
      { target: SUBSCRIPTION_MUTATION_TARGET, measured: 'not measured', met: null },
      { target: SUBSCRIPTION_LOOP_TARGET, measured: 'not measured', met: null },
    );
  } else {
    const { deliveries, latencyFromChangeMs, latencyFromRequestMs, rssBytes, heapBytes, mutationMs } =
      subscriptions;
    const complete = deliveries.received === deliveries.expected;
    verdicts.push({
      target: 'Subscriptions: p99 delivery < 250 ms',
      measured:
        `p99 ${fixed(latencyFromChangeMs.p99)} ms from the change ` +
        `(${fixed(latencyFromRequestMs.p99)} ms from sending its mutation), ` +
        `${whole(deliveries.received)} of ${whole(deliveries.expected)} delivered`,
      met: complete && latencyFromChangeMs.p99 < 250,
    });
    // What the server retains (heap after a full GC) when measured; resident memory in older results.
    const memory = heapBytes ?? rssBytes;
    const growth = memory.afterBurst - memory.subscribed;
    verdicts.push({
      target:
        `Subscriptions: memory bounded (the burst leaves < ${bytes(BURST_MEMORY_BUDGET)} behind, ` +
        'and leaving subscribers free theirs)',
      measured:
        `${heapBytes === undefined ? 'RSS' : 'heap after GC'} ${bytes(memory.before)} → ` +
        `${bytes(memory.subscribed)} subscribed → ${bytes(memory.afterBurst)} after the burst → ` +
        `${bytes(memory.afterClose)} after they left`,
      met: growth < BURST_MEMORY_BUDGET && memory.afterClose - memory.before < BURST_MEMORY_BUDGET,
    });
    verdicts.push(
      {
        target: SUBSCRIPTION_MUTATION_TARGET,
        measured: `p99 ${fixed(mutationMs.p99)} ms (p50 ${fixed(mutationMs.p50)} ms)`,
        met: mutationMs.p99 < 200,
      },
      subscriptions.eventLoopDelayMs === undefined
        ? { target: SUBSCRIPTION_LOOP_TARGET, measured: 'not measured', met: null }
        : {
            target: SUBSCRIPTION_LOOP_TARGET,
            measured: `p99 ${fixed(subscriptions.eventLoopDelayMs.p99)} ms (max ${fixed(subscriptions.eventLoopDelayMs.max)} ms)`,
            met: subscriptions.eventLoopDelayMs.p99 < 50,
          },
    );
  }
  verdicts.push(...agentVerdicts(agents));
  return verdicts;
}

/** Issue 12: what the gateway adds to a tool call, and tools/list of 1000 tools. */
function agentVerdicts(agents: AgentResult | null): TargetVerdict[] {
  const added = (connections: number) => {
    const direct = agents?.direct.find((run) => run.connections === connections);
    const gateway = agents?.gateway.find((run) => run.connections === connections);
    if (direct === undefined || gateway === undefined) return undefined;
    return {
      p50: gateway.latencyMs.p50 - direct.latencyMs.p50,
      p99: gateway.latencyMs.p99 - direct.latencyMs.p99,
    };
  };
  const verdicts: TargetVerdict[] = [];
  for (const connections of [1, 20]) {
    const target = `Agents, tools/call at ${connections} connection${connections === 1 ? '' : 's'}: the gateway adds p50 < 3 ms, p99 < 10 ms`;
    const measured = added(connections);
    verdicts.push(
      measured === undefined
        ? { target, measured: 'not measured', met: null }
        : {
            target,
            measured: `+${fixed(measured.p50, 2)} ms p50, +${fixed(measured.p99, 2)} ms p99`,
            met: measured.p50 < 3 && measured.p99 < 10,
          },
    );
  }
  verdicts.push(
    below('Agents, tools/list of 1000 tools, 1 connection: p99 < 30 ms', agents?.list.latencyMs.p99, 30),
  );
  return verdicts;
}

function atLeast(target: string, value: number | undefined, min: number, unit: string): TargetVerdict {
  if (value === undefined) return { target, measured: 'not measured', met: null };
  return { target, measured: `${fixed(value)} ${unit}`, met: value >= min };
}

/**
 * The issue puts a hand-written Apollo Server + pg + DataLoader at about 40 req/CPU-s on its machine and asks for
 * 60: 1.5 times that. The same ratio against the reference server run here does not depend on the machine.
 */
function relativeToReference(registry: number | undefined, reference: number | undefined): TargetVerdict {
  const target =
    'ServerListWithToolSchemas, 20 connections: ≥ 1.5 × the hand-written reference server on the same machine (60 / 40)';
  if (registry === undefined || reference === undefined)
    return { target, measured: 'not measured', met: null };
  const ratio = registry / reference;
  return {
    target,
    measured: `${fixed(ratio, 2)} × (${fixed(registry)} against ${fixed(reference)} req/CPU-s)`,
    met: ratio >= 1.5,
  };
}

/** Medians of the runs, with their spread: one run on a shared machine can be off by a third. */
function cpuAtMost(target: string, summary: RunSummary | undefined, maxMs: number): TargetVerdict {
  if (summary === undefined) return { target, measured: 'not measured', met: null };
  const { totalCpuMs, serverCpuMs, postgresCpuMs, runs } = summary;
  return {
    target,
    measured:
      `${fixed(totalCpuMs.median, 1)} ms (server ${fixed(serverCpuMs.median, 1)} + PostgreSQL ` +
      `${fixed(postgresCpuMs.median, 1)}; median of ${runs}, ${fixed(totalCpuMs.min, 1)}–${fixed(totalCpuMs.max, 1)})`,
    met: totalCpuMs.median <= maxMs,
  };
}

function latencyAtMost(
  target: string,
  summary: RunSummary | undefined,
  p50Ms: number,
  p99Ms: number,
): TargetVerdict {
  if (summary === undefined) return { target, measured: 'not measured', met: null };
  return {
    target,
    measured:
      `p50 ${fixed(summary.p50Ms.median)} ms, p99 ${fixed(summary.p99Ms.median)} ms ` +
      `(median of ${summary.runs}; p99 ${fixed(summary.p99Ms.min)}–${fixed(summary.p99Ms.max)})`,
    met: summary.p50Ms.median <= p50Ms && summary.p99Ms.median <= p99Ms,
  };
}

function atMost(target: string, value: number | undefined, max: number, unit: string): TargetVerdict {
  if (value === undefined) return { target, measured: 'not measured', met: null };
  return { target, measured: `${fixed(value, 0)} ${unit}`, met: value <= max };
}

function below(target: string, p99: number | undefined, limitMs: number): TargetVerdict {
  if (p99 === undefined) return { target, measured: 'not measured', met: null };
  return { target, measured: `p99 ${fixed(p99)} ms`, met: p99 < limitMs };
}

/** Tool search finds its matches through the full-text index of server_tools, never by reading every tool. */
function searchIndexVerdict(explains: readonly ExplainedStatement[]): TargetVerdict {
  const target = 'SearchTools: EXPLAIN shows server_tools_search_document_idx, no full scan of server_tools';
  if (explains.length === 0) return { target, measured: 'not measured', met: null };
  const matching = explains.filter((statement) => statement.sql.includes('search_document @@'));
  const indexed = matching.every((statement) =>
    statement.indexes.includes('server_tools_search_document_idx'),
  );
  const scans = [...new Set(matching.flatMap((statement) => statement.seqScans))];
  return {
    target,
    measured:
      `${matching.length} statements: ${indexed ? 'each' : 'not each'} uses server_tools_search_document_idx; ` +
      `full scans: ${scans.join(', ') || 'none'}`,
    met: matching.length > 0 && indexed && !scans.includes('server_tools'),
  };
}

function indexVerdict(explains: readonly ExplainedStatement[]): TargetVerdict {
  const target = 'DiscoverServers and DashboardOverview use indexes (no full scan of a large table)';
  if (explains.length === 0) return { target, measured: 'not measured', met: null };
  const indexes = [...new Set(explains.flatMap((statement) => statement.indexes))];
  const scans = [...new Set(explains.flatMap((statement) => statement.seqScans))];
  const largeScans = scans.filter((table) => LARGE_TABLES.includes(table));
  return {
    target,
    measured:
      `indexes: ${indexes.join(', ') || 'none'}; full scans: ${scans.join(', ') || 'none'}` +
      (largeScans.length > 0 ? ` (large: ${largeScans.join(', ')})` : ''),
    met: largeScans.length === 0 && indexes.length > 0,
  };
}
