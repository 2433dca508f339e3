import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { SeedKeys } from '../src/seed/seed-database.js';
import type { Sql } from './database.js';
import { dataOf, expect, postGraphQL, requestBody } from './graphql-http.js';
import { progress, sleep } from './log.js';
import { CIRCUIT_BREAKER_CHANGED, RESET_CIRCUIT_BREAKER } from './operations.js';
import { type EventLoopDelay, recordEventLoopDelay, retainedHeapBytes } from './profile.js';
import type { ServerProcess } from './server-process.js';
import { type Distribution, distribution } from './stats.js';

export interface SubscriptionResult {
  readonly subscribers: number;
  readonly tenant: string;
  /** Events each subscriber gets first: the current state of every breaker of its tenant. */
  readonly snapshotEvents: number;
  /** Seconds to connect every subscriber and deliver their first states. */
  readonly subscribeSeconds: number;
  /** Circuit breakers reset at once through the API (each publishes one change). */
  readonly burst: number;
  /** How long the resetCircuitBreaker mutations took. */
  readonly mutationMs: Distribution;
  readonly deliveries: { readonly expected: number; readonly received: number };
  /**
   * From the change (the event's `changedAt`, set in the mutation's transaction before it commits and
   * publishes) to a subscriber receiving it: the delivery itself, whatever the mutation waited for.
   */
  readonly latencyFromChangeMs: Distribution;
  /** From sending a change's mutation to a subscriber receiving the change (includes the mutation). */
  readonly latencyFromRequestMs: Distribution;
  /** From the mutation's response to receipt; negative when the event arrived before the response. */
  readonly latencyFromResponseMs: Distribution;
  /** From the first mutation sent to the last event received. */
  readonly burstSeconds: number;
  readonly serverCpuSeconds: number;
  /** The server's event-loop delay from the first mutation sent to the last change received (absent in older results). */
  readonly eventLoopDelayMs?: EventLoopDelay;
  /** The server's resident memory before subscribing, subscribed, after the burst, after everyone left. */
  readonly rssBytes: MemoryReadings;
  /** The V8 heap it retains at the same moments, after a full garbage collection (absent in older results). */
  readonly heapBytes?: MemoryReadings;
  readonly errors: readonly string[];
}

export interface MemoryReadings {
  readonly before: number;
  readonly subscribed: number;
  readonly afterBurst: number;
  readonly afterClose: number;
}

export interface SubscriptionSettings {
  readonly server: ServerProcess;
  readonly sql: Sql;
  readonly keys: SeedKeys;
  readonly subscribers: number;
  readonly burst: number;
}

interface BreakerEvent {
  circuitBreakerChanged: { serverId: string; previousState: string | null; state: string; changedAt: string };
}

interface Receipt {
  /** performance.now() on receipt. */
  readonly at: number;
  /** Milliseconds from the event's changedAt to receipt (server and bench share the machine's clock). */
  readonly sinceChange: number;
}

/** One dashboard watching its tenant's circuit breakers. */
class Subscriber {
  snapshot = 0;
  /** When each change of the burst arrived. */
  readonly received = new Map<string, Receipt>();
  readonly errors: string[] = [];
  private readonly client: Client;

  constructor(url: string, key: string, watched: ReadonlySet<string>) {
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    this.client.subscribe<BreakerEvent>(
      { query: CIRCUIT_BREAKER_CHANGED, variables: {} },
      {
        next: (value) => {
          const at = performance.now();
          // The wall clock, as the server's changedAt: performance.timeOrigin + now drifts from it (seconds,
          // on a VM whose clock is stepped), which once made every latency from the change negative.
          const wallClock = Date.now();
          if (value.errors) this.errors.push(...value.errors.map((error) => error.message));
          const event = value.data?.circuitBreakerChanged;
          if (event === undefined) return;
          if (event.previousState === null) this.snapshot += 1;
          else if (
            event.state === 'CLOSED' &&
            watched.has(event.serverId) &&
            !this.received.has(event.serverId)
          ) {
            this.received.set(event.serverId, { at, sinceChange: wallClock - Date.parse(event.changedAt) });
          }
        },
        error: (error) => this.errors.push(error instanceof Error ? error.message : JSON.stringify(error)),
        complete: () => {},
      },
    );
  }

  close(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }
}

const CONNECT_WAVE = 50;
const PROGRESS_EVERY = 250;
const SUBSCRIBE_TIMEOUT_MS = 180_000;
const DELIVERY_TIMEOUT_MS = 60_000;

/**
 * `subscribers` graphql-ws clients of one tenant subscribe to circuitBreakerChanged on one server instance;
 * then `burst` of that tenant's breakers, opened in SQL, are reset through the API at once. Each reset
 * publishes one change that every subscriber must receive.
 */
export async function runSubscriptions(settings: SubscriptionSettings): Promise<SubscriptionResult> {
  const { server, sql, keys, subscribers } = settings;
  const tenant = await chooseTenant(sql, keys, settings.burst);
  const burst = Math.min(settings.burst, tenant.servers);
  const { count: snapshotEvents } = await sql.one<{ count: number }>(
    `select count(*)::int as count
     from circuit_breakers cb join mcp_servers s on s.id = cb.server_id
     where s.tenant_id = $1`,
    [tenant.tenantId],
  );
  const targets = await sql.rows<{ id: string }>(
    'select id from mcp_servers where tenant_id = $1 order by id limit $2',
    [tenant.tenantId, burst],
  );
  const watched = new Set(targets.map((row) => row.id));

  const inspectorUrl = server.inspectorUrl;
  if (inspectorUrl === null) throw new Error('the subscription scenario needs a server with an inspector');
  const retained = () => retainedHeapBytes(inspectorUrl);
  const before = server.rssBytes();
  const heapBefore = await retained();
  progress(
    'subscriptions',
    `${subscribers} subscribers of tenant ${tenant.tenantName} (${snapshotEvents} breakers)`,
  );
  const subscribeStarted = performance.now();
  const clients: Subscriber[] = [];
  for (let index = 0; index < subscribers; index += 1) {
    clients.push(new Subscriber(server.url, tenant.key, watched));
    if (clients.length % CONNECT_WAVE !== 0) continue;
    // Connect in waves: each socket authenticates and loads its first states before the next wave.
    await waitFor(() => clients.every((client) => client.snapshot > 0 || client.errors.length > 0), 30_000);
    if (clients.length % PROGRESS_EVERY === 0) progress('subscriptions', `${clients.length} connected`);
  }
  const subscribed = await waitFor(
    () => clients.every((client) => client.snapshot >= snapshotEvents || client.errors.length > 0),
    SUBSCRIBE_TIMEOUT_MS,
  );
  const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
  const errors = clients.flatMap((client) => client.errors);
  expect(
    subscribed && errors.length === 0,
    'CircuitBreakerChanged',
    `subscribers did not all receive their ${snapshotEvents} first states (${errors.slice(0, 3).join('; ')})`,
  );
  await sleep(1000);
  const rssSubscribed = server.rssBytes();
  const heapSubscribed = await retained();
  progress('subscriptions', `subscribed in ${subscribeSeconds.toFixed(1)} s; burst of ${burst} resets`);

  await sql.rows(
    `update circuit_breakers
     set state = 'open', failure_count = failure_threshold, opened_at = now(), updated_at = now()
     where server_id = any($1)`,
    [[...watched]],
  );
  const loopDelay = await recordEventLoopDelay(inspectorUrl);
  const cpuBefore = server.cpuSeconds();
  const sent = new Map<string, number>();
  const answered = new Map<string, number>();
  const burstStarted = performance.now();
  await Promise.all(
    [...watched].map(async (serverId) => {
      sent.set(serverId, performance.now());
      const reply = await postGraphQL<{ resetCircuitBreaker: { state: string } }>(
        server.url,
        tenant.key,
        requestBody(RESET_CIRCUIT_BREAKER, { serverId }),
      );
      answered.set(serverId, performance.now());
      const { resetCircuitBreaker } = dataOf(reply, 'ResetCircuitBreaker');
      expect(resetCircuitBreaker.state === 'CLOSED', 'ResetCircuitBreaker', 'the circuit is not closed');
    }),
  );
  const expected = subscribers * burst;
  const receivedCount = () => clients.reduce((sum, client) => sum + client.received.size, 0);
  await waitFor(() => receivedCount() >= expected, DELIVERY_TIMEOUT_MS);
  const lastReceipt = Math.max(
    ...clients.flatMap((client) => [...client.received.values()].map((r) => r.at)),
  );
  const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
  const eventLoopDelayMs = await loopDelay.stop();
  const rssAfterBurst = server.rssBytes();

  const fromChange: number[] = [];
  const fromRequest: number[] = [];
  const fromResponse: number[] = [];
  for (const client of clients) {
    for (const [serverId, { at, sinceChange }] of client.received) {
      fromChange.push(sinceChange);
      fromRequest.push(at - (sent.get(serverId) ?? at));
      fromResponse.push(at - (answered.get(serverId) ?? at));
    }
  }
  // After the latencies are taken: a full collection pauses the server.
  const heapAfterBurst = await retained();
  progress('subscriptions', `${receivedCount()} of ${expected} changes delivered; closing subscribers`);
  await Promise.all(clients.map((client) => client.close()));
  await sleep(3000);
  const rssAfterClose = server.rssBytes();
  const heapAfterClose = await retained();

  return {
    subscribers,
    tenant: tenant.tenantName,
    snapshotEvents,
    subscribeSeconds,
    burst,
    mutationMs: distribution([...watched].map((id) => (answered.get(id) ?? 0) - (sent.get(id) ?? 0))),
    deliveries: { expected, received: receivedCount() },
    latencyFromChangeMs: distribution(fromChange),
    latencyFromRequestMs: distribution(fromRequest),
    latencyFromResponseMs: distribution(fromResponse),
    burstSeconds: (lastReceipt - burstStarted) / 1000,
    serverCpuSeconds,
    eventLoopDelayMs,
    rssBytes: { before, subscribed: rssSubscribed, afterBurst: rssAfterBurst, afterClose: rssAfterClose },
    heapBytes: {
      before: heapBefore,
      subscribed: heapSubscribed,
      afterBurst: heapAfterBurst,
      afterClose: heapAfterClose,
    },
    errors: clients.flatMap((client) => client.errors).slice(0, 10),
  };
}

/**
 * The tenant with the fewest servers that still has `burst` of them: every subscriber first receives one
 * event per breaker of its tenant, and the burst is what is measured. The largest tenant when none has enough.
 */
async function chooseTenant(sql: Sql, keys: SeedKeys, burst: number) {
  const counts = await sql.rows<{ tenant_id: string; servers: number }>(
    'select tenant_id, count(*)::int as servers from mcp_servers group by tenant_id',
  );
  const servers = new Map(counts.map((row) => [row.tenant_id, row.servers]));
  const tenants = keys.tenants
    .map((tenant) => ({ ...tenant, servers: servers.get(tenant.tenantId) ?? 0 }))
    .sort((a, b) => a.servers - b.servers);
  const chosen = tenants.find((tenant) => tenant.servers >= burst) ?? tenants.at(-1);
  if (chosen === undefined || chosen.servers === 0) throw new Error('no tenant has servers to subscribe to');
  return chosen;
}

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false). */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
