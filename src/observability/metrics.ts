import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// The process's Prometheus metrics (prom-client). Names follow the Prometheus conventions (`_total` counters,
// `_seconds` durations, base units); labels take values from small fixed sets only (never ids, names or
// anything a client chooses freely), so a scrape stays the same size however the fleet grows.

const PREFIX = 'mcp_gateway_';

/** Latency buckets, in seconds, for requests answered in milliseconds to tool calls taking tens of seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How a tool call ended, whoever asked for it. */
export type ToolCallOutcome = 'ok' | 'tool_error' | 'unavailable' | 'failed' | 'cancelled' | 'refused';

/** What the process counts; every feature that records something is handed this (never a global). */
export interface Metrics {
  readonly registry: Registry;
  readonly graphqlRequests: Counter<'operation_type' | 'outcome'>;
  readonly graphqlRequestDuration: Histogram<'operation_type'>;
  readonly graphqlErrors: Counter<'code'>;
  readonly mcpRequests: Counter<'method' | 'status'>;
  readonly toolCalls: Counter<'via' | 'outcome'>;
  readonly toolCallDuration: Histogram<'via'>;
  readonly healthProbes: Counter<'outcome'>;
  readonly rateLimitRefusals: Counter<'budget'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    graphqlRequests: new Counter({
      name: `${PREFIX}graphql_requests_total`,
      help: 'GraphQL operations over HTTP, by operation type (query, mutation) and outcome (ok, error).',
      labelNames: ['operation_type', 'outcome'],
      registers,
    }),
    graphqlRequestDuration: new Histogram({
      name: `${PREFIX}graphql_request_duration_seconds`,
      help: 'Time to answer a GraphQL operation over HTTP.',
      labelNames: ['operation_type'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    graphqlErrors: new Counter({
      name: `${PREFIX}graphql_errors_total`,
      help: 'Errors in GraphQL answers (HTTP and websocket), by extensions.code.',
      labelNames: ['code'],
      registers,
    }),
    mcpRequests: new Counter({
      name: `${PREFIX}mcp_requests_total`,
      help: 'HTTP requests to the agents endpoint /mcp/{id}, by MCP method and HTTP status.',
      labelNames: ['method', 'status'],
      registers,
    }),
    toolCalls: new Counter({
      name: `${PREFIX}tool_calls_total`,
      help: 'Tool calls through the gateway, by where they came from (graphql, mcp) and how they ended.',
      labelNames: ['via', 'outcome'],
      registers,
    }),
    toolCallDuration: new Histogram({
      name: `${PREFIX}tool_call_duration_seconds`,
      help: 'Time from a tool call reaching the gateway to its answer, fail-overs included.',
      labelNames: ['via'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    healthProbes: new Counter({
      name: `${PREFIX}health_probes_total`,
      help: 'Health probes of registered servers by this process, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    rateLimitRefusals: new Counter({
      name: `${PREFIX}rate_limit_refusals_total`,
      help: 'Requests refused by a rate limit, by budget (perHour, perDay, unauthenticated).',
      labelNames: ['budget'],
      registers,
    }),
  };
}

/** Values read when Prometheus scrapes: the state of the process and of the registry. */
export interface ScrapedSources {
  readonly websockets: () => {
    readonly sockets: number;
    readonly subscriptions: number;
    readonly fanOut: { readonly groups: number; readonly changeExecutions: number };
  };
  readonly eventBus: () => { readonly kind: string; readonly ready: boolean };
  /** The database pool, where the driver keeps one (knex's, for PostgreSQL and PGlite alike). */
  readonly databasePool: () => {
    readonly used: number;
    readonly free: number;
    readonly pending: number;
  } | null;
  /** Servers by health status and circuit breakers by state, counted in the database (all tenants). */
  readonly registryCounts: () => Promise<{
    readonly serversByStatus: ReadonlyMap<string, number>;
    readonly circuitsByState: ReadonlyMap<string, number>;
  }>;
}

/** Registers the gauges that are read at scrape time. */
export function registerScrapedGauges(metrics: Metrics, sources: ScrapedSources): void {
  const registers = [metrics.registry];
  new Gauge({
    name: `${PREFIX}websocket_connections`,
    help: 'Authenticated graphql-ws sockets open on this instance.',
    registers,
    collect() {
      this.set(sources.websockets().sockets);
    },
  });
  new Gauge({
    name: `${PREFIX}subscriptions`,
    help: 'GraphQL subscriptions running on this instance.',
    registers,
    collect() {
      this.set(sources.websockets().subscriptions);
    },
  });
  new Gauge({
    name: `${PREFIX}subscription_groups`,
    help: 'Groups of subscriptions that see the same answers (document, variables, access scope); each change is executed once per group.',
    registers,
    collect() {
      this.set(sources.websockets().fanOut.groups);
    },
  });
  new Counter({
    name: `${PREFIX}subscription_change_executions_total`,
    help: 'Live changes executed for a group of subscriptions (one per change and group, whatever its size).',
    registers,
    collect() {
      // Counted by the fan-out itself; read here as it stands.
      this.reset();
      this.inc(sources.websockets().fanOut.changeExecutions);
    },
  });
  new Gauge({
    name: `${PREFIX}event_bus_ready`,
    help: 'Whether the event bus can deliver now (1) or not (0), by kind (redis, in-process).',
    labelNames: ['kind'],
    registers,
    collect() {
      const { kind, ready } = sources.eventBus();
      this.reset();
      this.set({ kind }, ready ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}database_pool_connections`,
    help: 'Database pool connections by state (used, free, pending acquires); the embedded database has a pool of one.',
    labelNames: ['state'],
    registers,
    collect() {
      const pool = sources.databasePool();
      this.reset();
      if (pool === null) return;
      this.set({ state: 'used' }, pool.used);
      this.set({ state: 'free' }, pool.free);
      this.set({ state: 'pending' }, pool.pending);
    },
  });
  // Both read in one query per scrape, shared by the two gauges.
  let counting: Promise<Awaited<ReturnType<ScrapedSources['registryCounts']>>> | null = null;
  const counts = () => {
    counting ??= sources.registryCounts().finally(() => {
      counting = null;
    });
    return counting;
  };
  new Gauge({
    name: `${PREFIX}servers`,
    help: 'Registered servers by health status (every tenant).',
    labelNames: ['status'],
    registers,
    async collect() {
      const { serversByStatus } = await counts();
      this.reset();
      for (const [status, count] of serversByStatus) this.set({ status }, count);
    },
  });
  new Gauge({
    name: `${PREFIX}circuit_breakers`,
    help: 'Circuit breakers by state (every tenant).',
    labelNames: ['state'],
    registers,
    async collect() {
      const { circuitsByState } = await counts();
      this.reset();
      for (const [state, count] of circuitsByState) this.set({ state }, count);
    },
  });
}
