import { randomUUID } from 'node:crypto';
import { createPubSub } from '@graphql-yoga/subscription';
import { type GraphQLSchema, isUnionType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { HEALTH_TOPICS } from '../src/health/health.events.js';
import { ProbeOutcome } from '../src/health/health-check.entity.js';
import { MCPServer } from '../src/registry/mcp-server.entity.js';
import { CircuitBreakerState, ServerStatus } from '../src/registry/registry.enums.js';
import { RoutingRule } from '../src/routing/routing-rule.entity.js';
import { RoutingRuleTarget } from '../src/routing/routing-rule-target.entity.js';
import { buildAppSchema } from '../src/schema.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { VirtualServer } from '../src/virtual/virtual-server.entity.js';
import { VirtualServerMember } from '../src/virtual/virtual-server-member.entity.js';
import { type GraphQLResponse, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';
import { rootOperation, selectEverything } from './support/selection.js';
import { subscribe } from './support/subscriptions.js';

/**
 * The tenant-isolation walk. Two tenants, alpha (A) and bravo (B), each with users, keys, servers with tools,
 * resources, prompts, circuit breakers and probe history, audit and request logs; bravo has more of
 * everything, so any figure that counted its rows would come out wrong. Every root query, mutation and
 * subscription and every `_entities` type is walked with A's key, and again with a key of A limited by
 * `allowedServers` to one of A's two servers. The walk reads the schema: a root field or `@key` type without
 * a case fails the first test, so whoever adds one is told to add its case here.
 *
 * What every case proves, besides its own assertions: no answer to A's key carries any id of B's rows or the
 * word "bravo" (every name of B contains it), and no answer to the limited key carries any id of A's other
 * server's rows or the word "hidden" (every name of that server contains it). Selections are generated from
 * the schema, every field five levels of objects deep, so nested fields added later are walked too.
 */

type Data = Record<string, unknown>;
type Root = 'Query' | 'Mutation' | 'Subscription';

/** A key the walk asks with, and what must never show up in an answer to it. */
interface Caller {
  readonly label: string;
  readonly key: string;
  readonly keyId: string;
  /** Ids and words that no answer to this key may contain. */
  readonly traces: readonly string[];
  /** The key's `allowedServers`, for inputs that must respect them. */
  readonly allowedServers: readonly string[] | null;
}

/** A walk case: proves one root field (or `_entities` type) isolated for `caller`. */
type Case = (caller: Caller) => Promise<void>;

let db: TestDatabase;
let app: TestApp;
let schema: GraphQLSchema;

const alpha = {} as {
  id: string;
  userIds: string[];
  /** The server the limited key may use. */
  open: MCPServer;
  /** The server the limited key may not use. */
  hidden: MCPServer;
  openToolId: string;
  hiddenToolId: string;
  hiddenOnlyKeyId: string;
  /** Routes `search` to both of alpha's servers. */
  ruleId: string;
  /** Offers every tool of both of alpha's servers. */
  virtualServerId: string;
};
const bravo = {} as {
  id: string;
  userIds: string[];
  servers: MCPServer[];
  /** Its circuit is OPEN. */
  brokenServer: MCPServer;
  toolId: string;
  key: string;
  keyId: string;
  lockedKeyId: string;
  ruleId: string;
  virtualServerId: string;
};
/** A's key with every tenant scope. */
let full: Caller;
/** A's key limited to `alpha.open`. */
let limited: Caller;

const SCOPES = [
  ApiKeyScope.READ,
  ApiKeyScope.WRITE,
  ApiKeyScope.METRICS,
  ApiKeyScope.HEALTH,
  ApiKeyScope.PROXY,
];

/** A virtual server offering every tool of these servers; returns its id. */
async function seedVirtualServer(tenantId: string, name: string, servers: MCPServer[]): Promise<string> {
  const em = app.orm.em.fork();
  const virtualServer = new VirtualServer(em.getReference(Tenant, tenantId, { wrapped: true }), name);
  const ref = em.getReference(VirtualServer, virtualServer.id, { wrapped: true });
  em.persist([
    virtualServer,
    ...servers.map(
      (server, position) =>
        new VirtualServerMember(
          ref,
          em.getReference(MCPServer, server.id, { wrapped: true }),
          position,
          server.name,
        ),
    ),
  ]);
  await em.flush();
  return virtualServer.id;
}

/** A routing rule for calls of `search` to these servers; returns its id. */
async function seedRule(tenantId: string, name: string, servers: MCPServer[]): Promise<string> {
  const em = app.orm.em.fork();
  const rule = new RoutingRule(em.getReference(Tenant, tenantId, { wrapped: true }), name, {
    toolName: 'search',
  });
  const ruleRef = em.getReference(RoutingRule, rule.id, { wrapped: true });
  em.persist([
    rule,
    ...servers.map(
      (server) => new RoutingRuleTarget(ruleRef, em.getReference(MCPServer, server.id, { wrapped: true })),
    ),
  ]);
  await em.flush();
  return rule.id;
}
const MINUTE_MS = 60_000;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  schema = await buildAppSchema(createPubSub());
  const kit = seed(app.orm);
  // Request figures are compared exactly: the app's own requests during the walk stay out of request_logs.
  await kit.keepOnlySeededRequestLogs();
  const a = await kit.tenant('alpha');
  const b = await kit.tenant('bravo');
  const now = Date.now();

  const ann = await a.user('alpha-ann');
  const abe = await a.user('alpha-abe');
  const bravoUsers = [await b.user('bravo-bea'), await b.user('bravo-bob'), await b.user('bravo-cy')];

  const [open, hidden] = await a.servers([
    {
      name: 'alpha-open',
      healthStatus: ServerStatus.HEALTHY,
      avgResponseTime: 20,
      tools: ['search', 'fetch'],
      toolCalls: { search: { calls: 10, errors: 1 } },
      resources: ['file:///alpha/{path}'],
      prompts: ['alpha-summary'],
      probes: [ProbeOutcome.OK, ProbeOutcome.OK],
    },
    {
      name: 'alpha-hidden',
      healthStatus: ServerStatus.DEGRADED,
      avgResponseTime: 40,
      circuitState: CircuitBreakerState.OPEN,
      tools: ['search', 'hidden-deploy'],
      toolCalls: { search: { calls: 5 }, 'hidden-deploy': { calls: 7, errors: 2 } },
      resources: ['file:///hidden/{path}'],
      prompts: ['hidden-prompt'],
      probes: [ProbeOutcome.OK, ProbeOutcome.TIMEOUT],
    },
  ]);
  const bravoServers = await b.servers([
    {
      name: 'bravo-one',
      healthStatus: ServerStatus.HEALTHY,
      avgResponseTime: 500,
      tools: ['search', 'bravo-secret'],
      toolCalls: { search: { calls: 1000, errors: 100 }, 'bravo-secret': { calls: 50 } },
      resources: ['file:///bravo/{path}'],
      prompts: ['bravo-prompt'],
      probes: [ProbeOutcome.OK, ProbeOutcome.UNREACHABLE, ProbeOutcome.OK],
    },
    {
      name: 'bravo-two',
      healthStatus: ServerStatus.UNHEALTHY,
      avgResponseTime: 900,
      circuitState: CircuitBreakerState.OPEN,
      tools: ['bravo-ops'],
      probes: [ProbeOutcome.UNREACHABLE],
    },
    { name: 'bravo-three', healthStatus: ServerStatus.MAINTENANCE },
  ]);
  if (!open || !hidden || !bravoServers[0] || !bravoServers[1]) throw new Error('servers not seeded');

  const alphaRule = await seedRule(a.id, 'alpha-route', [open, hidden]);
  const bravoRule = await seedRule(b.id, 'bravo-route', bravoServers.slice(0, 2));
  const alphaVirtual = await seedVirtualServer(a.id, 'alpha-agents', [open, hidden]);
  const bravoVirtual = await seedVirtualServer(b.id, 'bravo-agents', bravoServers.slice(0, 2));

  const fullKey = await a.key(SCOPES, { userId: ann.id });
  const limitedKey = await a.key(SCOPES, { allowedServers: [open.id] });
  const hiddenOnlyKey = await a.key([ApiKeyScope.READ], { allowedServers: [hidden.id] });
  const bravoKey = await b.key(SCOPES, { userId: bravoUsers[0]?.id });
  const bravoLocked = await b.key([ApiKeyScope.READ], { isLocked: true });
  await b.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);

  const minutesAgo = (minutes: number) => new Date(now - minutes * MINUTE_MS);
  await kit.requestLogs([
    { tenantId: a.id, apiKeyId: fullKey.id, durationMs: 10, at: minutesAgo(10), operationName: 'ServerList' },
    { tenantId: a.id, apiKeyId: fullKey.id, durationMs: 20, at: minutesAgo(10), operationName: 'ServerList' },
    { tenantId: a.id, durationMs: 30, statusCode: 500, at: minutesAgo(20), operationName: 'ServerDetail' },
    ...Array.from({ length: 5 }, () => ({
      tenantId: b.id,
      apiKeyId: bravoKey.id,
      durationMs: 9000,
      statusCode: 503,
      at: minutesAgo(10),
      operationName: 'BravoOnly',
    })),
  ]);
  await kit.auditLogs([
    {
      tenantId: a.id,
      userId: ann.id,
      action: 'server.update',
      resourceType: 'server',
      resourceId: open.id,
      details: { name: 'alpha-open' },
      at: minutesAgo(30),
    },
    {
      tenantId: a.id,
      userId: ann.id,
      action: 'server.register',
      resourceType: 'server',
      resourceId: hidden.id,
      details: { name: 'alpha-hidden' },
      at: minutesAgo(31),
    },
    { tenantId: a.id, action: 'user.create', resourceType: 'user', resourceId: abe.id, at: minutesAgo(32) },
    ...bravoServers.map((server, index) => ({
      tenantId: b.id,
      userId: bravoUsers[0]?.id,
      action: 'server.update',
      resourceType: 'server',
      resourceId: server.id,
      details: { name: server.name },
      at: minutesAgo(30 + index),
    })),
    {
      tenantId: b.id,
      action: 'user.create',
      resourceType: 'user',
      resourceId: bravoUsers[1]?.id,
      at: minutesAgo(40),
    },
  ]);

  Object.assign(alpha, {
    id: a.id,
    userIds: [ann.id, abe.id],
    open,
    hidden,
    openToolId: await toolId(open.id, 'search'),
    hiddenToolId: await toolId(hidden.id, 'hidden-deploy'),
    hiddenOnlyKeyId: hiddenOnlyKey.id,
    ruleId: alphaRule,
    virtualServerId: alphaVirtual,
  });
  Object.assign(bravo, {
    id: b.id,
    userIds: bravoUsers.map((user) => user.id),
    servers: bravoServers,
    brokenServer: bravoServers[1],
    toolId: await toolId(bravoServers[0].id, 'bravo-secret'),
    key: bravoKey.key,
    keyId: bravoKey.id,
    lockedKeyId: bravoLocked.id,
    ruleId: bravoRule,
    virtualServerId: bravoVirtual,
  });

  const bravoTraces = [...(await rowsOfTenant(b.id)).map((row) => row.id), 'bravo'];
  full = {
    label: "alpha's key",
    key: fullKey.key,
    keyId: fullKey.id,
    traces: bravoTraces,
    allowedServers: null,
  };
  limited = {
    label: "alpha's key limited to alpha-open",
    key: limitedKey.key,
    keyId: limitedKey.id,
    traces: [...bravoTraces, ...(await rowsOfServer(hidden.id)).map((row) => row.id), 'hidden'],
    allowedServers: [open.id],
  };
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------------
// Rows, straight from the database

interface Row {
  readonly table: string;
  readonly id: string;
  readonly row: unknown;
}

/** Tables whose rows belong to a tenant through `tenant_id`, and those that belong to a server. */
const TENANT_TABLES = [
  'users',
  'api_keys',
  'mcp_servers',
  'routing_rules',
  'virtual_servers',
  'audit_logs',
  'request_logs',
];
const SERVER_TABLES = [
  'server_tools',
  'server_resources',
  'server_prompts',
  'circuit_breakers',
  'health_checks',
  'routing_rule_targets',
  'virtual_server_members',
];

/**
 * Every row a tenant owns, whole. An API key's `last_used_at` (and with it `updated_at`) is written in the
 * background after the key is used, so those two are left out: a snapshot compares what a request may change.
 */
async function rowsOfTenant(tenantId: string): Promise<Row[]> {
  const selects = [
    `select 'tenants' as "table", id::text, to_jsonb(x) as row from tenants x where id = ?`,
    ...TENANT_TABLES.map((table) => {
      const row = table === 'api_keys' ? `to_jsonb(x) - 'last_used_at' - 'updated_at'` : 'to_jsonb(x)';
      return `select '${table}', id::text, ${row} from ${table} x where tenant_id = ?`;
    }),
    ...SERVER_TABLES.map(
      (table) =>
        `select '${table}', x.id::text, to_jsonb(x) from ${table} x
         where x.server_id in (select id from mcp_servers where tenant_id = ?)`,
    ),
  ];
  return app.orm.em.fork().execute<Row[]>(
    `${selects.join(' union all ')} order by 1, 2`,
    selects.map(() => tenantId),
  );
}

/** A server's row and every row that belongs to it. */
async function rowsOfServer(serverId: string): Promise<Row[]> {
  const selects = [
    `select 'mcp_servers' as "table", id::text, to_jsonb(x) as row from mcp_servers x where id = ?`,
    ...SERVER_TABLES.map(
      (table) => `select '${table}', id::text, to_jsonb(x) from ${table} x where server_id = ?`,
    ),
  ];
  return app.orm.em.fork().execute<Row[]>(
    `${selects.join(' union all ')} order by 1, 2`,
    selects.map(() => serverId),
  );
}

async function toolId(serverId: string, name: string): Promise<string> {
  const [row] = await app.orm.em
    .fork()
    .execute<{ id: string }[]>('select id::text from server_tools where server_id = ? and name = ?', [
      serverId,
      name,
    ]);
  if (!row) throw new Error(`no tool ${name}`);
  return row.id;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await app.orm.em.fork().execute<{ count: string | number }[]>(sql, params);
  return Number(row?.count);
}

// ---------------------------------------------------------------------------------------------------------
// Asking

/** Fails when `value` mentions any of the caller's traces. */
function expectNoTrace(caller: Caller, value: unknown): void {
  const text = JSON.stringify(value ?? null).toLowerCase();
  const found = caller.traces.filter((trace) => text.includes(trace.toLowerCase()));
  expect(found, `${caller.label} was answered with what it may not see`).toEqual([]);
}

/** Runs a root field with everything under it selected; the answer's data must carry no trace. */
async function ask<T = Data>(
  caller: Caller,
  root: 'Query' | 'Mutation',
  field: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<T>> {
  const query = rootOperation(schema, root, field, variables);
  const response = await app.graphql<T>({ query, variables, key: caller.key });
  expectNoTrace(caller, response.data);
  return response;
}

function asAdmin<T = Data>(
  root: 'Query' | 'Mutation',
  field: string,
  variables: Record<string, unknown> = {},
) {
  return app.graphql<T>({ query: rootOperation(schema, root, field, variables), variables });
}

/** The answer with `id` written as `<id>`: what is left must not tell one missing id from another. */
function shapeOf(answer: unknown, id: string): unknown {
  return JSON.parse(JSON.stringify(answer ?? null).replaceAll(id, '<id>'));
}

function codesOf(response: { errors?: { extensions?: Record<string, unknown> }[] }): unknown[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/**
 * `attempt` with an id the caller may not see answers NOT_FOUND, exactly as it does for an id that exists
 * nowhere: same status, same data, same errors apart from the id itself.
 */
async function expectNotFoundLikeUnknown(
  attempt: (id: string) => Promise<GraphQLResponse<unknown>>,
  foreignId: string,
): Promise<void> {
  const unknownId = randomUUID();
  const foreign = await attempt(foreignId);
  const unknown = await attempt(unknownId);
  expect(codesOf(foreign)).toEqual(['NOT_FOUND']);
  expect(foreign.data ?? null).toBeNull();
  expect(shapeOf({ status: foreign.status, data: foreign.data, errors: foreign.errors }, foreignId)).toEqual(
    shapeOf({ status: unknown.status, data: unknown.data, errors: unknown.errors }, unknownId),
  );
}

/** Runs `work` and proves that no row of `rows()` changed meanwhile. */
async function expectUnchanged(rows: () => Promise<Row[]>, work: () => Promise<void>): Promise<void> {
  const before = await rows();
  await work();
  expect(await rows()).toEqual(before);
}

const unchangedBravo = (work: () => Promise<void>) => expectUnchanged(() => rowsOfTenant(bravo.id), work);
const unchangedHidden = (work: () => Promise<void>) =>
  expectUnchanged(() => rowsOfServer(alpha.hidden.id), work);

interface Connection<T = Data> {
  totalCount: number;
  edges: { node: T }[];
}
const nodesOf = <T = Data>(connection: Connection<T> | undefined): T[] =>
  (connection?.edges ?? []).map((edge) => edge.node);
const idsOf = (connection: Connection | undefined): unknown[] => nodesOf(connection).map((node) => node.id);

// ---------------------------------------------------------------------------------------------------------
// Live updates

const subscriptionQuery = (field: string) =>
  rootOperation(schema, 'Subscription', field, { serverId: null }, 3);

/** Subscribes to one server the caller may not see; returns what came back, with the id written as `<id>`. */
async function refusedSubscription(caller: Caller, field: string, serverId: string): Promise<unknown> {
  const subscription = subscribe(app, caller.key, subscriptionQuery(field), { serverId });
  await subscription.until(1);
  await subscription.close();
  return shapeOf({ events: subscription.events, errors: subscription.errors }, serverId);
}

let eventVersion = 1_000;

/** Publishes a change of `server` as the health checker does (on the event bus every instance listens on). */
function publishChange(field: 'serverHealthChanged' | 'circuitBreakerChanged', server: MCPServer): number {
  eventVersion += 1;
  const common = { serverId: server.id, tenantId: server.tenant.id, version: eventVersion };
  if (field === 'serverHealthChanged') {
    app.eventBus.pubSub.publish(HEALTH_TOPICS.serverHealthChanged, {
      ...common,
      previousStatus: ServerStatus.HEALTHY,
      status: ServerStatus.DEGRADED,
      responseTimeMs: null,
      error: 'probe failed',
      checkedAt: new Date(),
    });
  } else {
    app.eventBus.pubSub.publish(HEALTH_TOPICS.circuitBreakerChanged, {
      ...common,
      previousState: CircuitBreakerState.CLOSED,
      state: CircuitBreakerState.OPEN,
      failureCount: 5,
      changedAt: new Date(),
    });
  }
  return eventVersion;
}

/**
 * Subscribes `caller` to `field` (one server, or all it may see), checks the first events state exactly the
 * visible servers, then publishes a change of each server in `unseen` followed by one of `sentinel`. Events
 * of one bus arrive in order, so once the sentinel's event is there, any unseen event that leaked would be
 * too: no waiting for something not to happen.
 */
async function expectOnlyVisibleEvents(
  caller: Caller,
  field: 'serverHealthChanged' | 'circuitBreakerChanged',
  options: { serverId: string | null; visible: string[]; unseen: MCPServer[]; sentinel: MCPServer },
): Promise<void> {
  const subscription = subscribe(app, caller.key, subscriptionQuery(field), { serverId: options.serverId });
  const serverIds = () =>
    subscription.events.map((event) => (event[field] as { serverId: string; version: number }).serverId);
  await subscription.until(options.visible.length);
  expect(subscription.errors).toEqual([]);
  expect(serverIds().sort()).toEqual([...options.visible].sort());

  for (const server of options.unseen) publishChange(field, server);
  const sentinelVersion = publishChange(field, options.sentinel);
  await subscription.waitFor((events) =>
    events.some((event) => (event[field] as { version: number }).version === sentinelVersion),
  );
  await subscription.close();
  expect(subscription.errors).toEqual([]);
  expect(serverIds().slice(options.visible.length)).toEqual([options.sentinel.id]);
  expectNoTrace(caller, subscription.events);
}

async function expectSubscriptionIsolated(
  caller: Caller,
  field: 'serverHealthChanged' | 'circuitBreakerChanged',
  foreign: MCPServer,
  visible: MCPServer[],
  unseen: MCPServer[],
): Promise<void> {
  // A foreign server's id is refused exactly like an unknown one.
  const refused = await refusedSubscription(caller, field, foreign.id);
  expect(JSON.stringify(refused)).toContain('NOT_FOUND');
  const unknownId = randomUUID();
  expect(refused).toEqual(await refusedSubscription(caller, field, unknownId));

  const [first] = visible;
  if (!first) throw new Error('no visible server');
  // Every server the caller may see: the others' changes never arrive.
  await expectOnlyVisibleEvents(caller, field, {
    serverId: null,
    visible: visible.map((server) => server.id),
    unseen,
    sentinel: first,
  });
  // One server: neither the others' changes nor another tenant's arrive.
  await expectOnlyVisibleEvents(caller, field, {
    serverId: first.id,
    visible: [first.id],
    unseen: [...unseen, ...visible.slice(1)],
    sentinel: first,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Federation

async function resolveEntities(caller: Caller, representations: { __typename: string; id: string }[]) {
  const entity = schema.getType('_Entity');
  if (!entity) throw new Error('no _Entity');
  const query = `query($representations: [_Any!]!) {
    _entities(representations: $representations) ${selectEverything(schema, entity, 3)}
  }`;
  const response = await app.graphql<{ _entities: (Data | null)[] }>({
    query,
    variables: { representations },
    key: caller.key,
  });
  expect(response.errors).toBeUndefined();
  expectNoTrace(caller, response.data);
  return response.data?._entities ?? [];
}

// ---------------------------------------------------------------------------------------------------------
// The walk with A's key. Cases take the caller so the limited key can repeat those that concern no server.

const tenantWalk: Record<string, Case> = {
  // --- queries

  'Query.server': async (caller) => {
    for (const foreign of bravo.servers) {
      await expectNotFoundLikeUnknown((id) => ask(caller, 'Query', 'server', { id }), foreign.id);
    }
    const own = await ask(caller, 'Query', 'server', { id: alpha.open.id });
    expect(own.data?.server).toMatchObject({ id: alpha.open.id, tenant: { id: alpha.id } });
  },

  'Query.servers': async (caller) => {
    const all = await ask<{ servers: Connection }>(caller, 'Query', 'servers', {});
    expect(all.data?.servers.totalCount).toBe(2);
    expect(idsOf(all.data?.servers)).toEqual([alpha.hidden.id, alpha.open.id]);
    for (const filter of [
      { tenantId: bravo.id },
      { tools: ['bravo-secret'] },
      { search: 'bravo' },
      { resources: ['file:///bravo/x'] },
      { healthStatus: ['MAINTENANCE', 'UNHEALTHY'] },
    ]) {
      const filtered = await ask<{ servers: Connection }>(caller, 'Query', 'servers', { filter });
      expect(filtered.data?.servers, JSON.stringify(filter)).toMatchObject({ totalCount: 0, edges: [] });
    }
    // For the platform admin, B's servers match too: had the tenant scope slipped, they would have counted.
    const platform = await asAdmin<{ servers: Connection }>('Query', 'servers', {
      filter: { tools: ['search'] },
    });
    expect(platform.data?.servers.totalCount).toBe(3);
  },

  'Query.serverHealthSummary': async (caller) => {
    const { data, errors } = await ask(caller, 'Query', 'serverHealthSummary');
    expect(errors).toBeUndefined();
    expect(data?.serverHealthSummary).toEqual({
      totalServers: 2,
      healthyServers: 1,
      degradedServers: 1,
      unhealthyServers: 0,
      unknownServers: 0,
      maintenanceServers: 0,
      avgResponseTime: 30,
      openCircuits: 1,
    });
  },

  'Query.requestPerformanceSummary': async (caller) => {
    const { data, errors } = await ask(caller, 'Query', 'requestPerformanceSummary', { hours: 24 });
    expect(errors).toBeUndefined();
    expect(data?.requestPerformanceSummary).toMatchObject({
      totalRequests: 3,
      errorCount: 1,
      errorRate: expect.closeTo(1 / 3, 10),
      avgDurationMs: 20,
      p50DurationMs: 20,
      maxDurationMs: 30,
    });
  },

  'Query.requestTimeSeries': async (caller) => {
    const { data, errors } = await ask<{ requestTimeSeries: { requests: number; errors: number }[] }>(
      caller,
      'Query',
      'requestTimeSeries',
      { hours: 24, bucket: 'HOUR' },
    );
    expect(errors).toBeUndefined();
    const buckets = data?.requestTimeSeries ?? [];
    expect(buckets.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(3);
    expect(buckets.reduce((sum, bucket) => sum + bucket.errors, 0)).toBe(1);
  },

  'Query.tenantUsageSummary': async (caller) => {
    await expectNotFoundLikeUnknown(
      (tenantId) => ask(caller, 'Query', 'tenantUsageSummary', { tenantId, hours: 24 }),
      bravo.id,
    );
    const { data, errors } = await ask(caller, 'Query', 'tenantUsageSummary', {
      tenantId: alpha.id,
      hours: 24,
    });
    expect(errors).toBeUndefined();
    expect(data?.tenantUsageSummary).toMatchObject({
      tenantId: alpha.id,
      totalRequests: 3,
      errorCount: 1,
      totalServers: 2,
      activeServers: 2,
      totalTools: 4,
      toolCalls: 22,
      activeApiKeys: await activeKeysOfAlpha(),
      topTools: [
        { toolName: 'search', calls: 15, errors: 1 },
        { toolName: 'hidden-deploy', calls: 7, errors: 2 },
      ],
    });
  },

  'Query.databaseSizeSummary': platformOnly('databaseSizeSummary'),
  'Query.indexUsageSummary': platformOnly('indexUsageSummary'),

  'Query.auditLogs': async (caller) => {
    const all = await ask<{ auditLogs: Connection }>(caller, 'Query', 'auditLogs', { first: 100 });
    expect(all.data?.auditLogs.totalCount).toBe(
      await count('select count(*) from audit_logs where tenant_id = ?', [alpha.id]),
    );
    expect(new Set(nodesOf(all.data?.auditLogs).map((node) => node.tenantId))).toEqual(new Set([alpha.id]));
    // Successful entries carry no trace of B. (Failed ones may echo an id the caller itself sent, such as a
    // B id guessed by another case of this walk: that is the caller's own input, not B's data.)
    await ask(caller, 'Query', 'auditLogs', { first: 100, filter: { success: true } });
    const foreignFilters = [{ resourceId: bravo.servers[0]?.id }, { userId: bravo.userIds[0] }];
    for (const filter of foreignFilters) {
      const filtered = await ask<{ auditLogs: Connection }>(caller, 'Query', 'auditLogs', { filter });
      expect(filtered.data?.auditLogs, JSON.stringify(filter)).toMatchObject({ totalCount: 0, edges: [] });
      const platform = await asAdmin<{ auditLogs: Connection }>('Query', 'auditLogs', { filter });
      expect(platform.data?.auditLogs.totalCount).toBeGreaterThan(0);
    }
  },

  'Query.requestLogs': async (caller) => {
    const { data } = await ask<{ requestLogs: Connection }>(caller, 'Query', 'requestLogs', { first: 100 });
    expect(data?.requestLogs.totalCount).toBe(3);
    expect(new Set(nodesOf(data?.requestLogs).map((node) => node.tenantId))).toEqual(new Set([alpha.id]));
    const foreign = await ask<{ requestLogs: Connection }>(caller, 'Query', 'requestLogs', {
      filter: { operationName: 'BravoOnly' },
    });
    expect(foreign.data?.requestLogs).toMatchObject({ totalCount: 0, edges: [] });
  },

  'Query.apiKeys': async (caller) => {
    const { data } = await ask<{ apiKeys: Connection }>(caller, 'Query', 'apiKeys', { first: 100 });
    const own = await app.orm.em
      .fork()
      .execute<{ id: string }[]>('select id::text from api_keys where tenant_id = ? order by id', [alpha.id]);
    expect(data?.apiKeys.totalCount).toBe(own.length);
    expect([...idsOf(data?.apiKeys)].sort()).toEqual(own.map((row) => row.id));
  },

  'Query.viewer': async (caller) => {
    const { data } = await ask(caller, 'Query', 'viewer');
    expect(data?.viewer).toMatchObject({
      apiKey: { id: caller.keyId },
      user: { id: alpha.userIds[0], tenant: { id: alpha.id } },
      tenant: { id: alpha.id, serverCount: 2, userCount: 2 },
    });
  },

  'Query.tenants': async (caller) => {
    const { data } = await ask<{ tenants: Connection }>(caller, 'Query', 'tenants', { first: 100 });
    expect(data?.tenants.totalCount).toBe(1);
    expect(nodesOf(data?.tenants)).toMatchObject([{ id: alpha.id, serverCount: 2, userCount: 2 }]);
  },

  'Query.users': async (caller) => {
    const { data } = await ask<{ users: Connection }>(caller, 'Query', 'users', { first: 100 });
    expect(data?.users.totalCount).toBe(2);
    expect([...idsOf(data?.users)].sort()).toEqual([...alpha.userIds].sort());
    expect(nodesOf(data?.users)).toMatchObject([{ tenant: { id: alpha.id } }, { tenant: { id: alpha.id } }]);
  },

  'Query._service': async (caller) => {
    const { data } = await app.graphql({ query: '{ _service { sdl } }', key: caller.key });
    expect(String((data as { _service?: { sdl?: string } })?._service?.sdl)).toContain('type MCPServer');
    expectNoTrace(caller, data);
  },

  // --- mutations: another tenant's ids answer NOT_FOUND like unknown ones, and nothing of B changes

  'Mutation.createApiKey': async (caller) => {
    const input = { name: 'probe', scopes: ['READ'], allowedServers: caller.allowedServers ?? undefined };
    await unchangedBravo(async () => {
      await expectNotFoundLikeUnknown(
        (tenantId) => ask(caller, 'Mutation', 'createApiKey', { input: { ...input, tenantId } }),
        bravo.id,
      );
      await expectNotFoundLikeUnknown(
        (userId) => ask(caller, 'Mutation', 'createApiKey', { input: { ...input, userId } }),
        bravo.userIds[0] ?? '',
      );
      await expectNotFoundLikeUnknown(
        (serverId) =>
          ask(caller, 'Mutation', 'createApiKey', { input: { ...input, allowedServers: [serverId] } }),
        bravo.servers[0]?.id ?? '',
      );
    });
  },

  'Mutation.revokeApiKey': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'revokeApiKey', { id }), bravo.keyId),
    );
    const stillWorks = await app.graphql({ query: '{ viewer { apiKey { id } } }', key: bravo.key });
    expect(stillWorks.data).toEqual({ viewer: { apiKey: { id: bravo.keyId } } });
  },

  'Mutation.unlockApiKey': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'unlockApiKey', { id }), bravo.lockedKeyId),
    );
  },

  'Mutation.resetCircuitBreaker': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (serverId) => ask(caller, 'Mutation', 'resetCircuitBreaker', { serverId }),
        bravo.brokenServer.id,
      ),
    );
  },

  'Mutation.checkServerHealth': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (id) => ask(caller, 'Mutation', 'checkServerHealth', { id }),
          foreign.id,
        );
      }
    });
  },

  'Mutation.registerServer': async (caller) => {
    const input = {
      name: 'alpha-sneaky',
      endpointUrl: 'https://sneaky.example.test/mcp',
      transportType: 'STREAMABLE_HTTP',
      discover: false,
      tools: [{ name: 'sneak' }],
    };
    await unchangedBravo(async () => {
      for (const discover of [false, true]) {
        await expectNotFoundLikeUnknown(
          (tenantId) =>
            ask(caller, 'Mutation', 'registerServer', { input: { ...input, discover, tenantId } }),
          bravo.id,
        );
      }
    });
  },

  'Mutation.importRegistryServers': async (caller) => {
    // Refused before the registry is read: nothing is fetched for, or written into, another tenant.
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (tenantId) =>
          ask(caller, 'Mutation', 'importRegistryServers', {
            input: { url: 'http://127.0.0.1:9', tenantId },
          }),
        bravo.id,
      ),
    );
  },

  'Mutation.updateServer': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (id) =>
            ask(caller, 'Mutation', 'updateServer', {
              id,
              input: { description: 'touched', failureThreshold: 1 },
            }),
          foreign.id,
        );
      }
    });
  },

  'Mutation.refreshServerCapabilities': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (id) => ask(caller, 'Mutation', 'refreshServerCapabilities', { id }),
          foreign.id,
        );
      }
    });
  },

  'Mutation.deleteServer': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'deleteServer', { id }), foreign.id);
      }
    });
  },

  'Mutation.createTenant': async (caller) => {
    // Platform admins only: no tenant key creates one, and no id is involved.
    const tenantsBefore = await count('select count(*) from tenants', []);
    const { data, errors } = await ask(caller, 'Mutation', 'createTenant', {
      input: { name: 'alpha-spawn' },
    });
    expect(data ?? null).toBeNull();
    expect(codesOf({ errors })).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from tenants', [])).toBe(tenantsBefore);
  },

  'Mutation.updateTenant': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (id) =>
          ask(caller, 'Mutation', 'updateTenant', { id, input: { name: 'renamed', settings: { x: 1 } } }),
        bravo.id,
      ),
    );
  },

  'Mutation.createUser': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (tenantId) =>
          ask(caller, 'Mutation', 'createUser', {
            input: { username: 'sneak', email: 'sneak@example.test', tenantId },
          }),
        bravo.id,
      ),
    );
  },

  // --- the gateway

  'Query.searchTools': async (caller) => {
    type Hits = { searchTools: { totalCount: number; edges: { node: { tool: { id: string } } }[] } };
    const hitIds = (response: GraphQLResponse<Hits>) =>
      response.data?.searchTools.edges.map((edge) => edge.node.tool.id).sort() ?? [];
    const found = await ask<Hits>(caller, 'Query', 'searchTools', { query: 'search deploy secret ops' });
    expect(found.errors).toBeUndefined();
    expect(found.data?.searchTools.totalCount).toBe(3);
    expect(hitIds(found)).toEqual(
      [alpha.openToolId, alpha.hiddenToolId, await toolId(alpha.hidden.id, 'search')].sort(),
    );
    const foreign = await ask<Hits>(caller, 'Query', 'searchTools', { query: 'bravo secret' });
    expect(foreign.data?.searchTools).toMatchObject({ totalCount: 0, edges: [] });
    // For the platform admin, B's tools match too: had the tenant scope slipped, they would have been found.
    const platform = await asAdmin<Hits>('Query', 'searchTools', { query: 'bravo secret' });
    expect(hitIds(platform)).toContain(bravo.toolId);
  },

  'Query.routingRules': async (caller) => {
    const { data, errors } = await ask<{ routingRules: Data[] }>(caller, 'Query', 'routingRules');
    expect(errors).toBeUndefined();
    expect(data?.routingRules).toMatchObject([
      {
        id: alpha.ruleId,
        name: 'alpha-route',
        targetServers: [{ id: alpha.hidden.id }, { id: alpha.open.id }],
      },
    ]);
  },

  'Mutation.createRoutingRule': async (caller) => {
    const input = { name: 'alpha-probe', conditions: { toolName: 'search' } };
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (serverId) =>
            ask(caller, 'Mutation', 'createRoutingRule', {
              input: { ...input, targetServerIds: [alpha.open.id, serverId] },
            }),
          foreign.id,
        );
      }
    });
    expect(await count('select count(*) from routing_rules where tenant_id = ?', [alpha.id])).toBe(1);
  },

  'Mutation.deleteRoutingRule': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'deleteRoutingRule', { id }), bravo.ruleId),
    );
  },

  // --- virtual servers

  'Query.virtualServers': async (caller) => {
    const { data, errors } = await ask<{ virtualServers: Connection }>(caller, 'Query', 'virtualServers');
    expect(errors).toBeUndefined();
    expect(data?.virtualServers.totalCount).toBe(1);
    expect(nodesOf(data?.virtualServers)).toMatchObject([
      {
        id: alpha.virtualServerId,
        members: [{ server: { id: alpha.open.id } }, { server: { id: alpha.hidden.id } }],
      },
    ]);
  },

  'Query.virtualServer': async (caller) => {
    await expectNotFoundLikeUnknown(
      (id) => ask(caller, 'Query', 'virtualServer', { id }),
      bravo.virtualServerId,
    );
  },

  'Mutation.createVirtualServer': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (serverId) =>
            ask(caller, 'Mutation', 'createVirtualServer', {
              input: { name: 'alpha-sneak', members: [{ serverId: alpha.open.id }, { serverId }] },
            }),
          foreign.id,
        );
      }
      await expectNotFoundLikeUnknown(
        (tenantId) =>
          ask(caller, 'Mutation', 'createVirtualServer', {
            input: { name: 'alpha-sneak', tenantId, members: [{ serverId: alpha.open.id }] },
          }),
        bravo.id,
      );
    });
    expect(await count('select count(*) from virtual_servers where tenant_id = ?', [alpha.id])).toBe(1);
  },

  'Mutation.updateVirtualServer': async (caller) => {
    await unchangedBravo(async () => {
      await expectNotFoundLikeUnknown(
        (id) => ask(caller, 'Mutation', 'updateVirtualServer', { id, input: { name: 'taken' } }),
        bravo.virtualServerId,
      );
      await expectNotFoundLikeUnknown(
        (serverId) =>
          ask(caller, 'Mutation', 'updateVirtualServer', {
            id: alpha.virtualServerId,
            input: { members: [{ serverId }] },
          }),
        bravo.servers[0]?.id ?? '',
      );
    });
  },

  'Mutation.deleteVirtualServer': async (caller) => {
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (id) => ask(caller, 'Mutation', 'deleteVirtualServer', { id }),
        bravo.virtualServerId,
      ),
    );
  },

  'Mutation.callTool': async (caller) => {
    await unchangedBravo(async () => {
      for (const foreign of bravo.servers) {
        await expectNotFoundLikeUnknown(
          (serverId) => ask(caller, 'Mutation', 'callTool', { input: { toolName: 'search', serverId } }),
          foreign.id,
        );
      }
      // A tool only B's servers offer is unknown to A, like a tool nobody offers.
      await expectNotFoundLikeUnknown(
        (toolName) => ask(caller, 'Mutation', 'callTool', { input: { toolName } }),
        'bravo-secret',
      );
    });
  },

  // --- subscriptions

  'Subscription.serverHealthChanged': (caller) =>
    expectSubscriptionIsolated(
      caller,
      'serverHealthChanged',
      bravo.servers[0] as MCPServer,
      [alpha.open, alpha.hidden],
      bravo.servers,
    ),

  'Subscription.circuitBreakerChanged': (caller) =>
    expectSubscriptionIsolated(
      caller,
      'circuitBreakerChanged',
      bravo.brokenServer,
      [alpha.open, alpha.hidden],
      bravo.servers,
    ),

  // --- federation: B's representations resolve to null, like unknown ones

  '_entities.Tenant': async (caller) => {
    const entities = await resolveEntities(caller, [
      { __typename: 'Tenant', id: bravo.id },
      { __typename: 'Tenant', id: alpha.id },
      { __typename: 'Tenant', id: randomUUID() },
    ]);
    expect(entities).toMatchObject([null, { id: alpha.id, serverCount: 2, userCount: 2 }, null]);
  },

  '_entities.MCPServer': async (caller) => {
    const entities = await resolveEntities(caller, [
      ...bravo.servers.map((server) => ({ __typename: 'MCPServer', id: server.id })),
      { __typename: 'MCPServer', id: alpha.open.id },
    ]);
    expect(entities).toMatchObject([null, null, null, { id: alpha.open.id, tenant: { id: alpha.id } }]);
  },

  '_entities.ServerTool': async (caller) => {
    const entities = await resolveEntities(caller, [
      { __typename: 'ServerTool', id: bravo.toolId },
      { __typename: 'ServerTool', id: alpha.openToolId },
    ]);
    expect(entities).toMatchObject([null, { id: alpha.openToolId, name: 'search' }]);
  },
};

/** Maintenance views cover the whole platform: tenant keys are refused, and get no data at all. */
function platformOnly(field: string): Case {
  return async (caller) => {
    const { data, errors } = await ask(caller, 'Query', field);
    expect(data ?? null).toBeNull();
    expect(codesOf({ errors })).toEqual(['FORBIDDEN']);
  };
}

async function activeKeysOfAlpha(): Promise<number> {
  return count(
    'select count(*) from api_keys where tenant_id = ? and is_active and not is_locked and expires_at is null',
    [alpha.id],
  );
}

// ---------------------------------------------------------------------------------------------------------
// The walk, reduced, with the key limited to alpha-open: alpha-hidden, what belongs to it and any figure
// that counts it stay out of sight; alpha's other rows (users, request logs, its tenant) are not about
// servers, so those cases repeat the tenant walk with this key.

const sameAsTenantWalk =
  (name: string): Case =>
  (caller) => {
    const walk = tenantWalk[name];
    if (!walk) throw new Error(`no tenant case ${name}`);
    return walk(caller);
  };

const limitedWalk: Record<string, Case> = {
  'Query.server': async (caller) => {
    await expectNotFoundLikeUnknown((id) => ask(caller, 'Query', 'server', { id }), alpha.hidden.id);
    await expectNotFoundLikeUnknown(
      (id) => ask(caller, 'Query', 'server', { id }),
      bravo.servers[0]?.id ?? '',
    );
    const own = await ask(caller, 'Query', 'server', { id: alpha.open.id });
    expect(own.data?.server).toMatchObject({
      id: alpha.open.id,
      tools: [{ name: 'fetch' }, { name: 'search' }],
    });
  },

  'Query.servers': async (caller) => {
    const all = await ask<{ servers: Connection }>(caller, 'Query', 'servers', {});
    expect(all.data?.servers.totalCount).toBe(1);
    expect(idsOf(all.data?.servers)).toEqual([alpha.open.id]);
    for (const filter of [
      { tools: ['hidden-deploy'] },
      { search: 'hidden' },
      { healthStatus: ['DEGRADED'] },
    ]) {
      const filtered = await ask<{ servers: Connection }>(caller, 'Query', 'servers', { filter });
      expect(filtered.data?.servers, JSON.stringify(filter)).toMatchObject({ totalCount: 0, edges: [] });
    }
  },

  'Query.serverHealthSummary': async (caller) => {
    const { data, errors } = await ask(caller, 'Query', 'serverHealthSummary');
    expect(errors).toBeUndefined();
    expect(data?.serverHealthSummary).toEqual({
      totalServers: 1,
      healthyServers: 1,
      degradedServers: 0,
      unhealthyServers: 0,
      unknownServers: 0,
      maintenanceServers: 0,
      avgResponseTime: 20,
      openCircuits: 0,
    });
  },

  // Requests are not about servers (a request log names no server): the tenant's figures.
  'Query.requestPerformanceSummary': sameAsTenantWalk('Query.requestPerformanceSummary'),
  'Query.requestTimeSeries': sameAsTenantWalk('Query.requestTimeSeries'),
  'Query.requestLogs': sameAsTenantWalk('Query.requestLogs'),

  'Query.tenantUsageSummary': async (caller) => {
    await expectNotFoundLikeUnknown(
      (tenantId) => ask(caller, 'Query', 'tenantUsageSummary', { tenantId, hours: 24 }),
      bravo.id,
    );
    const { data, errors } = await ask(caller, 'Query', 'tenantUsageSummary', {
      tenantId: alpha.id,
      hours: 24,
    });
    expect(errors).toBeUndefined();
    expect(data?.tenantUsageSummary).toMatchObject({
      tenantId: alpha.id,
      totalRequests: 3,
      errorCount: 1,
      totalServers: 1,
      activeServers: 1,
      totalTools: 2,
      toolCalls: 10,
      topTools: [{ toolName: 'search', calls: 10, errors: 1 }],
    });
  },

  'Query.databaseSizeSummary': sameAsTenantWalk('Query.databaseSizeSummary'),
  'Query.indexUsageSummary': sameAsTenantWalk('Query.indexUsageSummary'),

  'Query.auditLogs': async (caller) => {
    // Entries about alpha-hidden (its registration names it) are about a server the key may not see.
    const { data } = await ask<{ auditLogs: Connection }>(caller, 'Query', 'auditLogs', {
      first: 100,
      filter: { success: true },
    });
    const about = nodesOf(data?.auditLogs).filter((node) => node.resourceType === 'server');
    expect(about.map((node) => node.resourceId)).toContain(alpha.open.id);
    const byId = await ask<{ auditLogs: Connection }>(caller, 'Query', 'auditLogs', {
      filter: { resourceId: alpha.hidden.id },
    });
    expect(byId.data?.auditLogs).toMatchObject({ totalCount: 0, edges: [] });
  },

  'Query.apiKeys': async (caller) => {
    // Keys that reach other servers (every server, or alpha-hidden) are not this key's to see or manage.
    const { data } = await ask<{ apiKeys: Connection }>(caller, 'Query', 'apiKeys', { first: 100 });
    expect(data?.apiKeys.totalCount).toBe(1);
    expect(idsOf(data?.apiKeys)).toEqual([caller.keyId]);
  },

  'Query.viewer': async (caller) => {
    const { data } = await ask(caller, 'Query', 'viewer');
    expect(data?.viewer).toMatchObject({
      apiKey: { id: caller.keyId, allowedServers: [alpha.open.id] },
      user: null,
      tenant: { id: alpha.id, serverCount: 1, userCount: 2 },
    });
  },

  'Query.tenants': async (caller) => {
    const { data } = await ask<{ tenants: Connection }>(caller, 'Query', 'tenants', {});
    expect(nodesOf(data?.tenants)).toMatchObject([{ id: alpha.id, serverCount: 1, userCount: 2 }]);
  },

  'Query.users': sameAsTenantWalk('Query.users'),
  'Query._service': sameAsTenantWalk('Query._service'),

  'Mutation.createApiKey': async (caller) => {
    await sameAsTenantWalk('Mutation.createApiKey')(caller);
    const input = { name: 'limited child', scopes: ['READ'] };
    await expectNotFoundLikeUnknown(
      (serverId) =>
        ask(caller, 'Mutation', 'createApiKey', { input: { ...input, allowedServers: [serverId] } }),
      alpha.hidden.id,
    );
    // Without allowedServers a key reaches every server of the tenant: more than this key may hand out.
    const keysBefore = await count('select count(*) from api_keys', []);
    const unlimited = await ask(caller, 'Mutation', 'createApiKey', { input });
    expect(codesOf(unlimited)).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from api_keys', [])).toBe(keysBefore);
    // Its own servers it may hand out; the new key is revoked again so the tenant's figures stay as seeded.
    const child = await ask<{ createApiKey: { apiKey: { id: string; allowedServers: string[] } } }>(
      caller,
      'Mutation',
      'createApiKey',
      { input: { ...input, allowedServers: [alpha.open.id] } },
    );
    expect(child.data?.createApiKey.apiKey.allowedServers).toEqual([alpha.open.id]);
    await asAdmin('Mutation', 'revokeApiKey', { id: child.data?.createApiKey.apiKey.id });
  },

  'Mutation.revokeApiKey': async (caller) => {
    await sameAsTenantWalk('Mutation.revokeApiKey')(caller);
    await expectUnchanged(
      () => rowsOfTenant(alpha.id).then((rows) => rows.filter((row) => row.table === 'api_keys')),
      async () => {
        for (const keyId of [full.keyId, alpha.hiddenOnlyKeyId]) {
          await expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'revokeApiKey', { id }), keyId);
        }
      },
    );
  },

  'Mutation.unlockApiKey': async (caller) => {
    await sameAsTenantWalk('Mutation.unlockApiKey')(caller);
    for (const keyId of [full.keyId, alpha.hiddenOnlyKeyId]) {
      await expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'unlockApiKey', { id }), keyId);
    }
  },

  'Mutation.resetCircuitBreaker': async (caller) => {
    await unchangedHidden(() =>
      expectNotFoundLikeUnknown(
        (serverId) => ask(caller, 'Mutation', 'resetCircuitBreaker', { serverId }),
        alpha.hidden.id,
      ),
    );
    const own = await ask(caller, 'Mutation', 'resetCircuitBreaker', { serverId: alpha.open.id });
    expect(own.data?.resetCircuitBreaker).toMatchObject({ state: 'CLOSED' });
  },

  'Mutation.checkServerHealth': async (caller) => {
    await unchangedHidden(() =>
      expectNotFoundLikeUnknown(
        (id) => ask(caller, 'Mutation', 'checkServerHealth', { id }),
        alpha.hidden.id,
      ),
    );
  },

  'Mutation.registerServer': async (caller) => {
    const serversBefore = await count('select count(*) from mcp_servers', []);
    const { data, errors } = await ask(caller, 'Mutation', 'registerServer', {
      input: {
        name: 'alpha-more',
        endpointUrl: 'https://more.example.test/mcp',
        transportType: 'SSE',
        discover: false,
      },
    });
    expect(data ?? null).toBeNull();
    expect(codesOf({ errors })).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from mcp_servers', [])).toBe(serversBefore);
  },

  'Mutation.importRegistryServers': async (caller) => {
    const serversBefore = await count('select count(*) from mcp_servers', []);
    const { data, errors } = await ask(caller, 'Mutation', 'importRegistryServers', {
      input: { url: 'http://127.0.0.1:9' },
    });
    expect(data ?? null).toBeNull();
    expect(codesOf({ errors })).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from mcp_servers', [])).toBe(serversBefore);
  },

  'Mutation.updateServer': async (caller) => {
    await unchangedHidden(() =>
      expectNotFoundLikeUnknown(
        (id) =>
          ask(caller, 'Mutation', 'updateServer', {
            id,
            input: { description: 'touched', failureThreshold: 1 },
          }),
        alpha.hidden.id,
      ),
    );
    const own = await ask(caller, 'Mutation', 'updateServer', {
      id: alpha.open.id,
      input: { description: 'the open one' },
    });
    expect(own.data?.updateServer).toMatchObject({ id: alpha.open.id, description: 'the open one' });
  },

  'Mutation.refreshServerCapabilities': async (caller) => {
    await unchangedHidden(() =>
      expectNotFoundLikeUnknown(
        (id) => ask(caller, 'Mutation', 'refreshServerCapabilities', { id }),
        alpha.hidden.id,
      ),
    );
  },

  'Mutation.deleteServer': async (caller) => {
    await unchangedHidden(() =>
      expectNotFoundLikeUnknown((id) => ask(caller, 'Mutation', 'deleteServer', { id }), alpha.hidden.id),
    );
  },

  'Mutation.createTenant': sameAsTenantWalk('Mutation.createTenant'),
  'Mutation.updateTenant': sameAsTenantWalk('Mutation.updateTenant'),
  'Mutation.createUser': sameAsTenantWalk('Mutation.createUser'),

  'Query.virtualServers': async (caller) => {
    // The tenant's virtual server, with only the members and tools of the server this key may use.
    const { data, errors } = await ask<{ virtualServers: Connection }>(caller, 'Query', 'virtualServers');
    expect(errors).toBeUndefined();
    const [node] = nodesOf(data?.virtualServers) as {
      id: string;
      members: Data[];
      tools: { server: { id: string } }[];
    }[];
    expect(node).toMatchObject({ id: alpha.virtualServerId, members: [{ server: { id: alpha.open.id } }] });
    expect(node?.tools.every((tool) => tool.server.id === alpha.open.id)).toBe(true);
  },

  'Query.virtualServer': async (caller) => {
    const { data, errors } = await ask<{ virtualServer: { members: Data[] } }>(
      caller,
      'Query',
      'virtualServer',
      {
        id: alpha.virtualServerId,
      },
    );
    expect(errors).toBeUndefined();
    expect(data?.virtualServer.members).toMatchObject([{ server: { id: alpha.open.id } }]);
  },

  'Mutation.createVirtualServer': async (caller) => {
    const before = await count('select count(*) from virtual_servers', []);
    const response = await ask(caller, 'Mutation', 'createVirtualServer', {
      input: { name: 'alpha-mine', members: [{ serverId: alpha.open.id }] },
    });
    expect(codesOf(response)).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from virtual_servers', [])).toBe(before);
  },

  'Mutation.updateVirtualServer': async (caller) => {
    await unchangedHidden(async () => {
      const response = await ask(caller, 'Mutation', 'updateVirtualServer', {
        id: alpha.virtualServerId,
        input: { members: [{ serverId: alpha.open.id }] },
      });
      expect(codesOf(response)).toEqual(['FORBIDDEN']);
    });
  },

  'Mutation.deleteVirtualServer': async (caller) => {
    const response = await ask(caller, 'Mutation', 'deleteVirtualServer', { id: alpha.virtualServerId });
    expect(codesOf(response)).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from virtual_servers where id = ?', [alpha.virtualServerId])).toBe(1);
  },

  'Query.searchTools': async (caller) => {
    type Hits = { searchTools: { totalCount: number; edges: { node: { tool: { id: string } } }[] } };
    const found = await ask<Hits>(caller, 'Query', 'searchTools', { query: 'search deploy secret ops' });
    expect(found.errors).toBeUndefined();
    expect(found.data?.searchTools.totalCount).toBe(1);
    expect(found.data?.searchTools.edges.map((edge) => edge.node.tool.id)).toEqual([alpha.openToolId]);
    const hidden = await ask<Hits>(caller, 'Query', 'searchTools', { query: 'hidden deploy' });
    expect(hidden.data?.searchTools).toMatchObject({ totalCount: 0, edges: [] });
  },

  'Query.routingRules': async (caller) => {
    // The tenant's rule, with only the targets this key may use.
    const { data, errors } = await ask<{ routingRules: Data[] }>(caller, 'Query', 'routingRules');
    expect(errors).toBeUndefined();
    expect(data?.routingRules).toMatchObject([{ id: alpha.ruleId, targetServers: [{ id: alpha.open.id }] }]);
  },

  'Mutation.createRoutingRule': async (caller) => {
    // Rules route the whole tenant's calls: a limited key may not change them, even towards its own server.
    const rulesBefore = await count('select count(*) from routing_rules', []);
    const response = await ask(caller, 'Mutation', 'createRoutingRule', {
      input: { name: 'alpha-mine', conditions: {}, targetServerIds: [alpha.open.id] },
    });
    expect(codesOf(response)).toEqual(['FORBIDDEN']);
    expect(await count('select count(*) from routing_rules', [])).toBe(rulesBefore);
  },

  'Mutation.deleteRoutingRule': async (caller) => {
    await unchangedHidden(async () => {
      for (const id of [alpha.ruleId, bravo.ruleId, randomUUID()]) {
        const response = await ask(caller, 'Mutation', 'deleteRoutingRule', { id });
        expect(codesOf(response)).toEqual(['FORBIDDEN']);
      }
    });
  },

  'Mutation.callTool': async (caller) => {
    await unchangedHidden(async () => {
      await expectNotFoundLikeUnknown(
        (serverId) => ask(caller, 'Mutation', 'callTool', { input: { toolName: 'search', serverId } }),
        alpha.hidden.id,
      );
      await expectNotFoundLikeUnknown(
        (toolName) => ask(caller, 'Mutation', 'callTool', { input: { toolName } }),
        'hidden-deploy',
      );
    });
    await unchangedBravo(() =>
      expectNotFoundLikeUnknown(
        (serverId) => ask(caller, 'Mutation', 'callTool', { input: { toolName: 'search', serverId } }),
        bravo.servers[0]?.id ?? '',
      ),
    );
  },

  'Subscription.serverHealthChanged': (caller) =>
    expectSubscriptionIsolated(
      caller,
      'serverHealthChanged',
      alpha.hidden,
      [alpha.open],
      [alpha.hidden, ...bravo.servers],
    ),

  'Subscription.circuitBreakerChanged': (caller) =>
    expectSubscriptionIsolated(
      caller,
      'circuitBreakerChanged',
      alpha.hidden,
      [alpha.open],
      [alpha.hidden, ...bravo.servers],
    ),

  '_entities.Tenant': async (caller) => {
    const entities = await resolveEntities(caller, [
      { __typename: 'Tenant', id: bravo.id },
      { __typename: 'Tenant', id: alpha.id },
    ]);
    expect(entities).toMatchObject([null, { id: alpha.id, serverCount: 1 }]);
  },

  '_entities.MCPServer': async (caller) => {
    const entities = await resolveEntities(caller, [
      { __typename: 'MCPServer', id: alpha.hidden.id },
      { __typename: 'MCPServer', id: bravo.servers[0]?.id ?? '' },
      { __typename: 'MCPServer', id: alpha.open.id },
    ]);
    expect(entities).toMatchObject([null, null, { id: alpha.open.id }]);
  },

  '_entities.ServerTool': async (caller) => {
    const entities = await resolveEntities(caller, [
      { __typename: 'ServerTool', id: alpha.hiddenToolId },
      { __typename: 'ServerTool', id: bravo.toolId },
      { __typename: 'ServerTool', id: alpha.openToolId },
    ]);
    expect(entities).toMatchObject([null, null, { id: alpha.openToolId }]);
  },
};

// ---------------------------------------------------------------------------------------------------------

/** What the walk must cover: every root field (`_entities` by its types instead) and every `@key` type. */
function walkableFields(): string[] {
  const roots: [Root, ReturnType<GraphQLSchema['getQueryType']>][] = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ];
  const fields = roots.flatMap(([root, type]) =>
    Object.keys(type?.getFields() ?? {})
      .filter((field) => !(root === 'Query' && field === '_entities'))
      .map((field) => `${root}.${field}`),
  );
  const entity = schema.getType('_Entity');
  const keyed =
    entity && isUnionType(entity) ? entity.getTypes().map((type) => `_entities.${type.name}`) : [];
  return [...fields, ...keyed].sort();
}

describe('the isolation walk', () => {
  it('has a case, for both keys, for every root query, mutation and subscription and every @key type', () => {
    const needed = walkableFields();
    expect(needed).toContain('_entities.MCPServer');
    const missing = (walk: Record<string, Case>) => needed.filter((name) => !(name in walk));
    const stale = (walk: Record<string, Case>) => Object.keys(walk).filter((name) => !needed.includes(name));
    expect(missing(tenantWalk), 'add a case to tenantWalk in test/tenant-isolation.test.ts').toEqual([]);
    expect(missing(limitedWalk), 'add a case to limitedWalk in test/tenant-isolation.test.ts').toEqual([]);
    expect([...stale(tenantWalk), ...stale(limitedWalk)]).toEqual([]);
  });
});

describe("with tenant alpha's key, nothing of tenant bravo", () => {
  for (const [name, walk] of Object.entries(tenantWalk)) {
    it(name, () => walk(full));
  }
});

describe("with alpha's key limited to one server, nothing of its other server", () => {
  for (const [name, walk] of Object.entries(limitedWalk)) {
    it(name, () => walk(limited));
  }
});
