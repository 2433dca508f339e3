import { createHash, randomInt } from 'node:crypto';
import { ServerStatus } from '../registry/registry.enums.js';
import { LoadBalancingStrategy } from './routing.enums.js';

/** A server the gateway may send a call to, with what the strategies order by. */
export interface Candidate {
  readonly serverId: string;
  readonly healthStatus: ServerStatus;
  readonly activeConnections: number;
  readonly avgResponseTime: number | null;
  /** The rule target's weight (1 without a rule). */
  readonly weight: number;
}

export interface BalancingRequest {
  readonly strategy: LoadBalancingStrategy;
  /** Whose round-robin counter turns: a rule's id, or the tool name when no rule applies. */
  readonly counterKey: string;
  /** What CONSISTENT_HASH hashes: the tool name and its arguments. */
  readonly hashKey: string;
  /** Tried first unless UNHEALTHY: the member a virtual server's tool name points at. */
  readonly preferredServerId?: string;
}

/**
 * Round-robin position per rule (or per tool name without a rule), kept in this process: each API instance
 * rotates on its own, so across a fleet the spread is even on average but not strictly alternating. Bounded:
 * the map is cleared when it grows past this many keys (positions restart, nothing else is lost).
 */
const MAX_COUNTERS = 10_000;
const roundRobinCounters = new Map<string, number>();

function nextTurn(key: string): number {
  if (roundRobinCounters.size >= MAX_COUNTERS && !roundRobinCounters.has(key)) roundRobinCounters.clear();
  const turn = roundRobinCounters.get(key) ?? 0;
  roundRobinCounters.set(key, (turn + 1) % 1_000_000_007);
  return turn;
}

/**
 * The order in which the gateway tries the candidates: by the strategy, then usable servers (HEALTHY,
 * DEGRADED) before unprobed ones (UNKNOWN) before UNHEALTHY ones, keeping the strategy's order within each.
 */
export function orderCandidates<T extends Candidate>(
  candidates: readonly T[],
  request: BalancingRequest,
): T[] {
  const byId = [...candidates].sort((a, b) =>
    a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0,
  );
  const ordered = byStrategy(byId, request)
    .map((candidate, position) => ({ candidate, position }))
    .sort((a, b) => tier(a.candidate) - tier(b.candidate) || a.position - b.position)
    .map(({ candidate }) => candidate);
  return preferredFirst(ordered, request.preferredServerId);
}

/**
 * The server a virtual server's tool name points at goes first unless it is UNHEALTHY (then the others, in
 * their order, are tried before it): the agent chose it, and an unprobed one is no reason to go elsewhere.
 */
function preferredFirst<T extends Candidate>(candidates: T[], preferredServerId: string | undefined): T[] {
  const preferred = candidates.find((candidate) => candidate.serverId === preferredServerId);
  if (preferred === undefined || tier(preferred) === UNHEALTHY_TIER) return candidates;
  return [preferred, ...candidates.filter((other) => other !== preferred)];
}

/** HEALTHY and DEGRADED are 0, UNKNOWN 1, UNHEALTHY (and MAINTENANCE) 2. */
const UNHEALTHY_TIER = 2;

function tier(candidate: Candidate): number {
  switch (candidate.healthStatus) {
    case ServerStatus.HEALTHY:
    case ServerStatus.DEGRADED:
      return 0;
    case ServerStatus.UNKNOWN:
      return 1;
    default:
      return UNHEALTHY_TIER;
  }
}

function byStrategy<T extends Candidate>(candidates: T[], request: BalancingRequest): T[] {
  switch (request.strategy) {
    case LoadBalancingStrategy.ROUND_ROBIN:
      return rotate(candidates, nextTurn(request.counterKey));
    case LoadBalancingStrategy.RANDOM:
      return shuffled(candidates);
    case LoadBalancingStrategy.WEIGHTED:
      return weightedOrder(candidates);
    case LoadBalancingStrategy.LEAST_CONNECTIONS:
      return stableSort(candidates, (candidate) => candidate.activeConnections);
    case LoadBalancingStrategy.FASTEST_RESPONSE:
      // Servers without a measured response time go last.
      return stableSort(candidates, (candidate) => candidate.avgResponseTime ?? Number.POSITIVE_INFINITY);
    case LoadBalancingStrategy.CONSISTENT_HASH:
      return rendezvousOrder(candidates, request.hashKey);
  }
}

function rotate<T>(items: T[], turn: number): T[] {
  if (items.length === 0) return items;
  const start = turn % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** A weighted random order (Efraimidis–Spirakis): a target of weight 3 comes first three times as often as one of weight 1. */
function weightedOrder<T extends Candidate>(items: T[]): T[] {
  return items
    .map((item) => ({ item, key: Math.random() ** (1 / Math.max(item.weight, 1)) }))
    .sort((a, b) => b.key - a.key)
    .map(({ item }) => item);
}

function stableSort<T>(items: T[], key: (item: T) => number): T[] {
  return items
    .map((item, position) => ({ item, position, value: key(item) }))
    .sort((a, b) => a.value - b.value || a.position - b.position)
    .map(({ item }) => item);
}

/**
 * Rendezvous (highest random weight) hashing: the same tool name and arguments go to the same server while it
 * is a candidate, and only the calls of a server that leaves move elsewhere. Fail-over takes the next
 * highest.
 */
function rendezvousOrder<T extends Candidate>(items: T[], hashKey: string): T[] {
  const score = (serverId: string) =>
    createHash('sha256').update(`${hashKey}\u0000${serverId}`).digest().readBigUInt64BE(0);
  return items
    .map((item) => ({ item, score: score(item.serverId) }))
    .sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : 0))
    .map(({ item }) => item);
}

/** The arguments in a canonical form (keys sorted at every level), so equal arguments hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
