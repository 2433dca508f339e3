import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CallFigures } from '../src/routing/call-figures.js';
import {
  CallToolDocument,
  CreateRoutingRuleDocument,
  DeleteRoutingRuleDocument,
  RoutingRuleListDocument,
} from './sdk/graphql.js';
import { type GraphQLResponse, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  closedPortUrl,
  fullCatalog,
  type RunningServer,
  type ServerCatalog,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';
import { subscribe } from './support/subscriptions.js';

let db: TestDatabase;
let app: TestApp;
const running: RunningServer[] = [];

// A short deadline per attempt only so the hanging-tool case ends soon; no assertion depends on timing.
const CALL_TIMEOUT_MS = 1500;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target, {
    GATEWAY_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    GATEWAY_MAX_ATTEMPTS: '3',
  });
});

afterAll(async () => {
  await Promise.all(running.map((server) => server.close()));
  await app?.close();
  await db?.drop();
});

type SeededTenant = Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;

interface Fixture {
  readonly tenant: SeededTenant;
  /** READ, WRITE and PROXY. */
  readonly key: string;
}

let tenantCounter = 0;

async function newTenant(): Promise<Fixture> {
  tenantCounter += 1;
  const tenant = await seed(app.orm).tenant(`gateway-${tenantCounter}`);
  const { key } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE, ApiKeyScope.PROXY]);
  return { tenant, key };
}

const catalogNamed = (name: string): ServerCatalog => ({ ...fullCatalog, name });

/** Starts a real MCP server and registers it (discovering its tools) for the tenant; returns its id. */
async function registerRunning(
  fixture: Fixture,
  name: string,
  options: {
    kind?: 'streamable' | 'modern' | 'sse';
    failureThreshold?: number;
    onRequest?: () => void;
  } = {},
): Promise<{ id: string; server: RunningServer }> {
  const catalog = catalogNamed(name);
  const onRequest = options.onRequest ? () => options.onRequest?.() : undefined;
  const server =
    options.kind === 'modern'
      ? await startModernServer(catalog, { legacy: 'stateless', onRequest })
      : options.kind === 'sse'
        ? await startSseServer(catalog, { onRequest })
        : await startStreamableHttpServer(catalog, { onRequest });
  running.push(server);
  const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
    query: `mutation($input: RegisterServerInput!) { registerServer(input: $input) { id } }`,
    variables: {
      input: {
        name,
        endpointUrl: server.url,
        transportType: options.kind === 'sse' ? 'SSE' : 'STREAMABLE_HTTP',
        discover: true,
        ...(options.failureThreshold !== undefined && { failureThreshold: options.failureThreshold }),
      },
    },
    key: fixture.key,
  });
  expect(errors).toBeUndefined();
  const id = data?.registerServer.id;
  if (!id) throw new Error('not registered');
  return { id, server };
}

interface CallResult {
  serverId: string;
  toolName: string;
  isError: boolean;
  content: unknown;
  durationMs: number;
  attempts: number;
}

function callTool(
  key: string,
  input: { toolName: string; arguments?: unknown; serverId?: string },
): Promise<GraphQLResponse<{ callTool: CallResult }>> {
  return app.graphql<{ callTool: CallResult }>({ query: print(CallToolDocument), variables: { input }, key });
}

function createRule(
  key: string,
  input: Record<string, unknown>,
): Promise<GraphQLResponse<{ createRoutingRule: { id: string; [field: string]: unknown } }>> {
  return app.graphql({ query: print(CreateRoutingRuleDocument), variables: { input }, key });
}

const codeOf = (response: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  response.errors?.[0]?.extensions?.code;

/** The text block the fixture servers answer with, parsed: which server answered what. */
function answerOf(result: CallResult | undefined): { server: string; tool: string; arguments: unknown } {
  const [block] = (result?.content ?? []) as { type: string; text: string }[];
  return JSON.parse(block?.text ?? 'null');
}

/** Reads the database once the figures of the calls made so far are written (they are written behind). */
async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  await app.callFigures.flush();
  return app.orm.em.fork().execute<T[]>(query, params);
}

async function toolStats(serverId: string, name: string) {
  const [row] = await sql<{
    total_calls: number;
    success_count: number;
    error_count: number;
    avg_execution_time: number | null;
  }>(
    'select total_calls, success_count, error_count, avg_execution_time from server_tools where server_id = ? and name = ?',
    [serverId, name],
  );
  return row;
}

async function serverRow(serverId: string) {
  const [row] = await sql<{ active_connections: number; health_status: string }>(
    'select active_connections, health_status from mcp_servers where id = ?',
    [serverId],
  );
  return row;
}

async function breakerOf(serverId: string) {
  const [row] = await sql<{
    state: string;
    failure_count: number;
    total_failures: number;
    total_successes: number;
  }>(
    'select state, failure_count, total_failures, total_successes from circuit_breakers where server_id = ?',
    [serverId],
  );
  return row;
}

async function openCircuit(serverId: string): Promise<void> {
  await sql("update circuit_breakers set state = 'open', opened_at = now() where server_id = ?", [serverId]);
}

async function ruleCount(tenantId: string): Promise<number> {
  const [row] = await sql<{ count: string }>('select count(*) from routing_rules where tenant_id = ?', [
    tenantId,
  ]);
  return Number(row?.count);
}

// ---------------------------------------------------------------------------------------------------------

describe('routing rules', () => {
  it('creates a rule with defaults, lists rules by priority and audits the change', async () => {
    const acme = await newTenant();
    const [one, two] = await acme.tenant.servers([{ name: 'rules-one' }, { name: 'rules-two' }]);
    if (!one || !two) throw new Error('not seeded');
    const low = await createRule(acme.key, {
      name: 'search to one',
      conditions: { toolName: 'search*' },
      targetServerIds: [one.id],
    });
    expect(low.errors).toBeUndefined();
    expect(low.data?.createRoutingRule).toEqual({
      id: expect.any(String),
      name: 'search to one',
      priority: 0,
      conditions: { toolName: 'search*' },
      loadBalancingStrategy: 'ROUND_ROBIN',
      targetServers: [{ id: one.id }],
    });
    const high = await createRule(acme.key, {
      name: 'everything',
      conditions: {},
      targetServerIds: [two.id, one.id],
      loadBalancingStrategy: 'WEIGHTED',
      weights: [3, 1],
      priority: 10,
    });
    expect(high.errors).toBeUndefined();

    const list = await app.graphql<{ routingRules: Record<string, unknown>[] }>({
      query: print(RoutingRuleListDocument),
      key: acme.key,
    });
    expect(list.errors).toBeUndefined();
    expect(list.data?.routingRules).toEqual([
      {
        id: high.data?.createRoutingRule.id,
        name: 'everything',
        priority: 10,
        isActive: true,
        conditions: {},
        loadBalancingStrategy: 'WEIGHTED',
        targetServers: [
          { id: one.id, name: 'rules-one', healthStatus: 'HEALTHY' },
          { id: two.id, name: 'rules-two', healthStatus: 'HEALTHY' },
        ],
      },
      expect.objectContaining({ id: low.data?.createRoutingRule.id, priority: 0 }),
    ]);
    const weights = await sql<{ server_id: string; weight: number }>(
      'select server_id, weight from routing_rule_targets where rule_id = ? order by weight desc',
      [high.data?.createRoutingRule.id],
    );
    expect(weights).toEqual([
      { server_id: two.id, weight: 3 },
      { server_id: one.id, weight: 1 },
    ]);
    const audit = await sql<{ action: string; success: boolean; resource_id: string }>(
      "select action, success, resource_id from audit_logs where resource_type = 'routing_rule' and tenant_id = ?",
      [acme.tenant.id],
    );
    expect(audit).toHaveLength(2);
    expect(audit.every((row) => row.action === 'routing_rule.create' && row.success)).toBe(true);
  });

  it('rejects bad input with BAD_USER_INPUT and creates nothing', async () => {
    const acme = await newTenant();
    const [server] = await acme.tenant.servers([{ name: 'bad-input' }]);
    const valid = { name: 'r', conditions: { toolName: 'x' }, targetServerIds: [server?.id] };
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '   ' }, 'name'],
      [{ conditions: ['search'] }, 'conditions'],
      [{ conditions: 'search*' }, 'conditions'],
      [{ conditions: { tags: ['eu'] } }, 'conditions'],
      [{ conditions: { toolName: 42 } }, 'conditions'],
      [{ conditions: { toolName: [] } }, 'conditions'],
      [{ conditions: { arguments: [1] } }, 'conditions'],
      [{ targetServerIds: [] }, 'targetServerIds'],
      [{ targetServerIds: [server?.id, server?.id] }, 'targetServerIds'],
      [{ weights: [1, 2] }, 'weights'],
      [{ weights: [0] }, 'weights'],
      [{ priority: 2_000_000 }, 'priority'],
    ];
    for (const [change, field] of cases) {
      const response = await createRule(acme.key, { ...valid, ...change });
      expect(codeOf(response), JSON.stringify(change)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
      expect(response.data ?? null).toBeNull();
    }
    const unknownStrategy = await createRule(acme.key, { ...valid, loadBalancingStrategy: 'FASTEST' });
    expect(codeOf(unknownStrategy)).toBe('BAD_USER_INPUT');
    expect(await ruleCount(acme.tenant.id)).toBe(0);
  });

  it("keeps tenants apart: another tenant's servers are NOT_FOUND, its rules invisible and not deletable", async () => {
    const acme = await newTenant();
    const globex = await newTenant();
    const [own] = await acme.tenant.servers([{ name: 'acme-own' }]);
    const [foreign] = await globex.tenant.servers([{ name: 'globex-foreign' }]);
    if (!own || !foreign) throw new Error('not seeded');

    const sneaky = await createRule(acme.key, {
      name: 'sneaky',
      conditions: {},
      targetServerIds: [own.id, foreign.id],
    });
    expect(codeOf(sneaky)).toBe('NOT_FOUND');
    expect(sneaky.errors?.[0]?.message).toContain(foreign.id);
    const malformed = await createRule(acme.key, { name: 'x', conditions: {}, targetServerIds: ['nope'] });
    expect(codeOf(malformed)).toBe('NOT_FOUND');
    expect(await ruleCount(acme.tenant.id)).toBe(0);

    const globexRule = await createRule(globex.key, {
      name: 'globex rule',
      conditions: {},
      targetServerIds: [foreign.id],
    });
    const globexRuleId = globexRule.data?.createRoutingRule.id;
    const acmeList = await app.graphql<{ routingRules: unknown[] }>({
      query: print(RoutingRuleListDocument),
      key: acme.key,
    });
    expect(acmeList.data?.routingRules).toEqual([]);
    const deleted = await app.graphql({
      query: print(DeleteRoutingRuleDocument),
      variables: { id: globexRuleId },
      key: acme.key,
    });
    expect(codeOf(deleted)).toBe('NOT_FOUND');
    expect(await ruleCount(globex.tenant.id)).toBe(1);

    const own_delete = await app.graphql({
      query: print(DeleteRoutingRuleDocument),
      variables: { id: globexRuleId },
      key: globex.key,
    });
    expect(own_delete.data).toEqual({ deleteRoutingRule: true });
    expect(await ruleCount(globex.tenant.id)).toBe(0);
    const [audit] = await sql<{ success: boolean }>(
      "select success from audit_logs where action = 'routing_rule.delete' and resource_id = ?",
      [globexRuleId],
    );
    expect(audit).toEqual({ success: true });
  });

  it('needs READ to list and WRITE to change; a key limited to some servers may not change rules', async () => {
    const acme = await newTenant();
    const [server] = await acme.tenant.servers([{ name: 'scoped' }]);
    if (!server) throw new Error('not seeded');
    const input = { name: 'r', conditions: {}, targetServerIds: [server.id] };
    const readOnly = (await acme.tenant.key([ApiKeyScope.READ])).key;
    expect(codeOf(await createRule(readOnly, input))).toBe('FORBIDDEN');
    const proxyOnly = (await acme.tenant.key([ApiKeyScope.PROXY])).key;
    const listed = await app.graphql({ query: print(RoutingRuleListDocument), key: proxyOnly });
    expect(codeOf(listed)).toBe('FORBIDDEN');
    const limited = (
      await acme.tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE], { allowedServers: [server.id] })
    ).key;
    expect(codeOf(await createRule(limited, input))).toBe('FORBIDDEN');
    expect(await ruleCount(acme.tenant.id)).toBe(0);
  });

  it('lists many rules with their targets in a constant number of statements', async () => {
    const acme = await newTenant();
    const servers = await acme.tenant.servers(
      Array.from({ length: 6 }, (_, index) => ({ name: `many-${index}` })),
    );
    const addRules = async (count: number) => {
      for (let index = 0; index < count; index += 1) {
        const response = await createRule(acme.key, {
          name: `rule-${index}`,
          conditions: { toolName: `tool-${index}` },
          targetServerIds: servers.slice(index % 3, (index % 3) + 4).map((server) => server.id),
          priority: index,
        });
        expect(response.errors).toBeUndefined();
      }
    };
    const list = () =>
      app.countStatements(() =>
        app.graphql<{ routingRules: { targetServers: unknown[] }[] }>({
          query: print(RoutingRuleListDocument),
          key: acme.key,
        }),
      );
    await addRules(2);
    const few = await list();
    await addRules(25);
    const many = await list();
    expect(many.result.data?.routingRules).toHaveLength(27);
    expect(many.result.data?.routingRules.every((rule) => rule.targetServers.length === 4)).toBe(true);
    expect(many.statements.length).toBe(few.statements.length);
    // The key, the rules, their targets with their servers.
    expect(many.statements.length).toBeLessThanOrEqual(3);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('callTool', () => {
  it('calls a tool on the given server over each transport, counts it and audits it', async () => {
    const acme = await newTenant();
    for (const kind of ['streamable', 'modern', 'sse'] as const) {
      const { id } = await registerRunning(acme, `direct-${kind}`, { kind });
      const response = await callTool(acme.key, {
        serverId: id,
        toolName: 'search',
        arguments: { query: 'mcp' },
      });
      expect(response.errors, kind).toBeUndefined();
      expect(response.data?.callTool).toMatchObject({
        serverId: id,
        toolName: 'search',
        isError: false,
        attempts: 1,
      });
      expect(answerOf(response.data?.callTool)).toEqual({
        server: `direct-${kind}`,
        tool: 'search',
        arguments: { query: 'mcp' },
      });
      expect(response.data?.callTool.durationMs).toBeGreaterThanOrEqual(0);
      expect(await toolStats(id, 'search')).toMatchObject({
        total_calls: 1,
        success_count: 1,
        error_count: 0,
      });
      expect((await toolStats(id, 'search'))?.avg_execution_time).not.toBeNull();
      expect(await serverRow(id)).toMatchObject({ active_connections: 0 });
      expect(await breakerOf(id)).toMatchObject({ state: 'closed', total_successes: 1 });
      const audit = await sql<{ success: boolean; details: Record<string, unknown> }>(
        "select success, details from audit_logs where action = 'tool.call' and resource_id = ?",
        [id],
      );
      expect(audit).toEqual([
        {
          success: true,
          details: { toolName: 'search', attempts: 1, outcome: 'ok', durationMs: expect.any(Number) },
        },
      ]);
    }
  });

  it("returns a tool's own error (isError) as its answer, without fail-over or breaker failure", async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'tool-error');
    const response = await callTool(acme.key, {
      serverId: id,
      toolName: 'translate',
      arguments: { fail: true },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.callTool).toMatchObject({ serverId: id, isError: true, attempts: 1 });
    expect(response.data?.callTool.content).toEqual([{ type: 'text', text: 'translate failed as asked' }]);
    expect(await toolStats(id, 'translate')).toMatchObject({
      total_calls: 1,
      success_count: 0,
      error_count: 1,
    });
    expect(await breakerOf(id)).toMatchObject({ state: 'closed', failure_count: 0, total_failures: 0 });
  });

  it('answers NOT_FOUND for unknown tools and servers, and for a server without the tool', async () => {
    const acme = await newTenant();
    const globex = await newTenant();
    const { id } = await registerRunning(acme, 'lookup');
    const [foreign] = await globex.tenant.servers([{ name: 'foreign-tools', tools: ['search'] }]);
    const unknownTool = await callTool(acme.key, { toolName: 'no_such_tool' });
    expect(codeOf(unknownTool)).toBe('NOT_FOUND');
    expect(codeOf(await callTool(acme.key, { toolName: 'search', serverId: foreign?.id }))).toBe('NOT_FOUND');
    expect(codeOf(await callTool(acme.key, { toolName: 'search', serverId: 'not-a-uuid' }))).toBe(
      'NOT_FOUND',
    );
    expect(codeOf(await callTool(acme.key, { toolName: 'no_such_tool', serverId: id }))).toBe('NOT_FOUND');
    expect(codeOf(await callTool(acme.key, { toolName: 'search', arguments: [1, 2] }))).toBe(
      'BAD_USER_INPUT',
    );
    const failed = await sql<{ success: boolean; details: Record<string, unknown> }>(
      "select success, details from audit_logs where action = 'tool.call' and tenant_id = ? and details->>'toolName' = 'no_such_tool'",
      [acme.tenant.id],
    );
    expect(failed).toHaveLength(2);
    expect(failed.every((row) => !row.success && row.details.error === 'NOT_FOUND')).toBe(true);
  });

  it('routes by tool name to servers that have it, and by the highest-priority matching rule', async () => {
    const acme = await newTenant();
    const one = await registerRunning(acme, 'route-one');
    const two = await registerRunning(acme, 'route-two');

    // No rule: round robin over both servers that have the tool.
    const answeredBy = new Set<string>();
    for (let index = 0; index < 2; index += 1) {
      const response = await callTool(acme.key, { toolName: 'summarize' });
      expect(response.errors).toBeUndefined();
      answeredBy.add(String(response.data?.callTool.serverId));
    }
    expect(answeredBy).toEqual(new Set([one.id, two.id]));

    // A rule for search* sends every search to two; a higher one for region=eu sends those to one.
    expect(
      (
        await createRule(acme.key, {
          name: 'search',
          conditions: { toolName: 'search*' },
          targetServerIds: [two.id],
        })
      ).errors,
    ).toBeUndefined();
    expect(
      (
        await createRule(acme.key, {
          name: 'eu',
          conditions: { toolName: ['search', 'translate'], arguments: { region: 'eu' } },
          targetServerIds: [one.id],
          priority: 5,
        })
      ).errors,
    ).toBeUndefined();
    for (let index = 0; index < 3; index += 1) {
      const response = await callTool(acme.key, { toolName: 'search', arguments: { query: 'q' } });
      expect(response.data?.callTool.serverId).toBe(two.id);
    }
    const eu = await callTool(acme.key, { toolName: 'search', arguments: { query: 'q', region: 'eu' } });
    expect(eu.data?.callTool.serverId).toBe(one.id);
    // A rule whose targets lack the tool is NOT_FOUND: the rule decides, it does not fall through.
    await createRule(acme.key, {
      name: 'only two for ping',
      conditions: { toolName: 'nothing_has_this' },
      targetServerIds: [two.id],
    });
    expect(codeOf(await callTool(acme.key, { toolName: 'nothing_has_this' }))).toBe('NOT_FOUND');
    // A rule's round robin alternates between its targets.
    await createRule(acme.key, {
      name: 'rr',
      conditions: { toolName: 'delete_document' },
      targetServerIds: [one.id, two.id],
      priority: 1,
    });
    const first = await callTool(acme.key, { toolName: 'delete_document', arguments: { id: 'a' } });
    const second = await callTool(acme.key, { toolName: 'delete_document', arguments: { id: 'a' } });
    expect(new Set([first.data?.callTool.serverId, second.data?.callTool.serverId])).toEqual(
      new Set([one.id, two.id]),
    );
  });

  it('fails over from a stopped server to a live one, and the failure feeds the breaker and the figures', async () => {
    const acme = await newTenant();
    const dead = await registerRunning(acme, 'failover-dead');
    const live = await registerRunning(acme, 'failover-live');
    // FASTEST_RESPONSE tries the dead server first.
    await sql('update mcp_servers set avg_response_time = ? where id = ?', [1, dead.id]);
    await sql('update mcp_servers set avg_response_time = ? where id = ?', [100, live.id]);
    await createRule(acme.key, {
      name: 'fastest',
      conditions: { toolName: 'search' },
      targetServerIds: [dead.id, live.id],
      loadBalancingStrategy: 'FASTEST_RESPONSE',
    });
    await dead.server.close();

    const response = await callTool(acme.key, { toolName: 'search', arguments: { query: 'x' } });
    expect(response.errors).toBeUndefined();
    expect(response.data?.callTool).toMatchObject({ serverId: live.id, attempts: 2, isError: false });
    expect(answerOf(response.data?.callTool).server).toBe('failover-live');

    expect(await breakerOf(dead.id)).toMatchObject({ state: 'closed', failure_count: 1, total_failures: 1 });
    expect(await breakerOf(live.id)).toMatchObject({ failure_count: 0, total_successes: 1 });
    expect(await toolStats(dead.id, 'search')).toMatchObject({
      total_calls: 1,
      success_count: 0,
      error_count: 1,
    });
    expect(await toolStats(live.id, 'search')).toMatchObject({
      total_calls: 1,
      success_count: 1,
      error_count: 0,
    });
    expect(await serverRow(dead.id)).toMatchObject({ active_connections: 0 });
    expect(await serverRow(live.id)).toMatchObject({ active_connections: 0 });
    // Counted like a failed probe: in the health history with what failed.
    const history = await sql<{ outcome: string; error: string }>(
      'select outcome, error from health_checks where server_id = ?',
      [dead.id],
    );
    expect(history).toEqual([
      { outcome: 'unreachable', error: expect.stringContaining('tool call "search" failed') },
    ]);
  });

  it('skips an OPEN circuit without contacting the server; only OPEN circuits left is SERVICE_UNAVAILABLE', async () => {
    const acme = await newTenant();
    let openContacts = 0;
    const open = await registerRunning(acme, 'open-circuit', { onRequest: () => (openContacts += 1) });
    const closed = await registerRunning(acme, 'closed-circuit');
    await openCircuit(open.id);
    const contactsBefore = openContacts;

    for (let index = 0; index < 3; index += 1) {
      const response = await callTool(acme.key, { toolName: 'ping_upstream' });
      expect(response.data?.callTool).toMatchObject({ serverId: closed.id, attempts: 1 });
    }
    const direct = await callTool(acme.key, { toolName: 'ping_upstream', serverId: open.id });
    expect(codeOf(direct)).toBe('SERVICE_UNAVAILABLE');
    expect(direct.errors?.[0]?.extensions).toMatchObject({
      reason: 'CIRCUITS_OPEN',
      skipped: [{ serverId: open.id, reason: 'CIRCUIT_OPEN' }],
    });
    expect(openContacts).toBe(contactsBefore);
    expect(await toolStats(open.id, 'ping_upstream')).toMatchObject({ total_calls: 0 });

    // Once the cool-down has passed, one trial call goes through (HALF_OPEN).
    await sql("update circuit_breakers set opened_at = now() - interval '1 hour' where server_id = ?", [
      open.id,
    ]);
    const trial = await callTool(acme.key, { toolName: 'ping_upstream', serverId: open.id });
    expect(trial.data?.callTool).toMatchObject({ serverId: open.id, attempts: 1 });
    expect(openContacts).toBeGreaterThan(contactsBefore);
    expect(await breakerOf(open.id)).toMatchObject({ state: 'half_open', total_successes: 1 });
  });

  it('tells a key that may only call tools which servers failed, not their addresses', async () => {
    const acme = await newTenant();
    const broken = await registerRunning(acme, 'addressless');
    await broken.server.close();
    const proxyOnly = (await acme.tenant.key([ApiKeyScope.PROXY])).key;
    const refused = await callTool(proxyOnly, { toolName: 'search', serverId: broken.id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      reason: 'ALL_ATTEMPTS_FAILED',
      failures: [{ serverId: broken.id, outcome: 'UNREACHABLE' }],
    });
    expect(JSON.stringify(refused.errors)).not.toContain('127.0.0.1');
    // A key that may read the server's endpoint anyway is told what failed.
    const detailed = await callTool(acme.key, { toolName: 'search', serverId: broken.id });
    expect(JSON.stringify(detailed.errors)).toContain('127.0.0.1');
  });

  it('lets one call at a time through to a server on trial', async () => {
    const acme = await newTenant();
    let contacts = 0;
    const recovering = await registerRunning(acme, 'recovering', { onRequest: () => (contacts += 1) });
    await openCircuit(recovering.id);
    await sql("update circuit_breakers set opened_at = now() - interval '1 hour' where server_id = ?", [
      recovering.id,
    ]);
    const contactsBefore = contacts;
    // The trial call hangs until its deadline; meanwhile the server is not given a second call.
    const trial = callTool(acme.key, {
      toolName: 'search',
      serverId: recovering.id,
      arguments: { hang: true },
    });
    while (contacts === contactsBefore) await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await callTool(acme.key, { toolName: 'search', serverId: recovering.id });
    expect(codeOf(second)).toBe('SERVICE_UNAVAILABLE');
    expect(second.errors?.[0]?.extensions).toMatchObject({
      reason: 'CIRCUITS_OPEN',
      skipped: [{ serverId: recovering.id, reason: 'CIRCUIT_TRIAL_IN_FLIGHT' }],
    });
    expect(codeOf(await trial)).toBe('SERVICE_UNAVAILABLE');
    // The failed trial opened the circuit again.
    expect(await breakerOf(recovering.id)).toMatchObject({ state: 'open' });
  });

  it('opens the circuit after enough failed calls and publishes the change', async () => {
    const acme = await newTenant();
    const broken = await registerRunning(acme, 'breaking', { failureThreshold: 2 });
    const subscription = subscribe(
      app,
      acme.key,
      'subscription($serverId: ID) { circuitBreakerChanged(serverId: $serverId) { serverId previousState state failureCount } }',
      { serverId: broken.id },
    );
    await subscription.until(1);
    await broken.server.close();

    for (let index = 0; index < 2; index += 1) {
      const response = await callTool(acme.key, { toolName: 'search', serverId: broken.id });
      expect(codeOf(response)).toBe('SERVICE_UNAVAILABLE');
      expect(response.errors?.[0]?.extensions).toMatchObject({
        reason: 'ALL_ATTEMPTS_FAILED',
        attempts: 1,
        failures: [{ serverId: broken.id, outcome: 'UNREACHABLE' }],
      });
    }
    expect(await breakerOf(broken.id)).toMatchObject({ state: 'open', total_failures: 2 });
    await subscription.waitFor((events) =>
      events.some((event) => (event.circuitBreakerChanged as { state: string }).state === 'OPEN'),
    );
    await subscription.close();
    expect(subscription.errors).toEqual([]);
    expect(subscription.events.at(-1)).toEqual({
      circuitBreakerChanged: { serverId: broken.id, previousState: 'CLOSED', state: 'OPEN', failureCount: 2 },
    });
    const third = await callTool(acme.key, { toolName: 'search', serverId: broken.id });
    expect(third.errors?.[0]?.extensions).toMatchObject({ reason: 'CIRCUITS_OPEN' });
    expect(await toolStats(broken.id, 'search')).toMatchObject({ total_calls: 2, error_count: 2 });
  });

  it('gives up on a tool that never answers at the deadline', async () => {
    const acme = await newTenant();
    const hanging = await registerRunning(acme, 'hanging');
    const direct = await callTool(acme.key, {
      serverId: hanging.id,
      toolName: 'search',
      arguments: { hang: true },
    });
    expect(codeOf(direct)).toBe('SERVICE_UNAVAILABLE');
    expect(direct.errors?.[0]?.extensions).toMatchObject({
      failures: [{ serverId: hanging.id, outcome: 'TIMEOUT' }],
    });
    expect(await serverRow(hanging.id)).toMatchObject({ active_connections: 0 });
    expect(await breakerOf(hanging.id)).toMatchObject({ failure_count: 1 });
  });

  it('tries at most GATEWAY_MAX_ATTEMPTS servers', async () => {
    const acme = await newTenant();
    const urls = await Promise.all(Array.from({ length: 4 }, () => closedPortUrl()));
    const servers = await acme.tenant.servers(
      urls.map((endpointUrl, index) => ({ name: `gone-${index}`, endpointUrl, tools: ['vanish'] })),
    );
    const response = await callTool(acme.key, { toolName: 'vanish' });
    expect(response.errors?.[0]?.extensions).toMatchObject({ reason: 'ALL_ATTEMPTS_FAILED', attempts: 3 });
    const counted = await sql<{ total: string }>(
      "select sum(total_calls)::text as total from server_tools where name = 'vanish' and server_id in (?)",
      [servers.map((server) => server.id)],
    );
    expect(counted).toEqual([{ total: '3' }]);
  });

  it('counts concurrent calls without losing any, and leaves no connection open', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'busy', { kind: 'modern' });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        callTool(acme.key, { serverId: id, toolName: 'translate', arguments: { to: `lang-${index}` } }),
      ),
    );
    expect(responses.every((response) => response.errors === undefined)).toBe(true);
    expect(await toolStats(id, 'translate')).toMatchObject({
      total_calls: 8,
      success_count: 8,
      error_count: 0,
    });
    expect(await serverRow(id)).toMatchObject({ active_connections: 0 });
    expect(await breakerOf(id)).toMatchObject({ total_successes: 8 });
  });

  it('needs the PROXY scope', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'proxy-only');
    const readWrite = (await acme.tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE])).key;
    const refused = await callTool(readWrite, { toolName: 'search', serverId: id });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toContain('PROXY');
    expect(await toolStats(id, 'search')).toMatchObject({ total_calls: 0 });
    const proxy = (await acme.tenant.key([ApiKeyScope.PROXY])).key;
    expect((await callTool(proxy, { toolName: 'search', serverId: id })).errors).toBeUndefined();
  });

  it('keeps a key limited by allowedServers to its servers, whatever the rules say', async () => {
    const acme = await newTenant();
    const allowed = await registerRunning(acme, 'allowed');
    const other = await registerRunning(acme, 'not-allowed');
    const limited = (await acme.tenant.key([ApiKeyScope.PROXY], { allowedServers: [allowed.id] })).key;
    for (let index = 0; index < 3; index += 1) {
      const response = await callTool(limited, { toolName: 'summarize' });
      expect(response.data?.callTool.serverId).toBe(allowed.id);
    }
    expect(codeOf(await callTool(limited, { toolName: 'summarize', serverId: other.id }))).toBe('NOT_FOUND');
    await createRule(acme.key, {
      name: 'to the other',
      conditions: { toolName: 'translate' },
      targetServerIds: [other.id],
    });
    expect(codeOf(await callTool(limited, { toolName: 'translate' }))).toBe('NOT_FOUND');
    expect(await toolStats(other.id, 'summarize')).toMatchObject({ total_calls: 0 });
    expect(await toolStats(other.id, 'translate')).toMatchObject({ total_calls: 0 });
  });
});

describe('call figures, written behind the calls', () => {
  const figureWrites = /update (mcp_servers|server_tools|circuit_breakers)|^\[query\] begin/;

  it('writes no figure during a call, and counts concurrent calls exactly once written', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'figures-quiet');
    const first = await app.countStatements(() =>
      callTool(acme.key, { serverId: id, toolName: 'search', arguments: { query: 'a' } }),
    );
    expect(first.result.errors).toBeUndefined();
    expect(first.statements.filter((statement) => figureWrites.test(statement))).toEqual([]);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => callTool(acme.key, { serverId: id, toolName: 'search' })),
    );
    expect(answers.map((answer) => answer.errors)).toEqual(Array(5).fill(undefined));
    // The write itself is background work: no request's statement count includes it.
    expect((await app.countStatements(() => app.callFigures.flush())).statements).toEqual([]);
    const stats = await toolStats(id, 'search');
    expect(stats).toMatchObject({ total_calls: 6, success_count: 6, error_count: 0 });
    expect(stats?.avg_execution_time).not.toBeNull();
    expect(await serverRow(id)).toMatchObject({ active_connections: 0 });
    expect(await breakerOf(id)).toMatchObject({ state: 'closed', failure_count: 0, total_successes: 6 });
  });

  it('reads a call’s server with its headers and breaker in one statement: three in all, by server or by tool name', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'counted');
    await callTool(acme.key, { toolName: 'search' }); // the key and the tenant's rules, kept from now on
    const byServer = await app.countStatements(() =>
      callTool(acme.key, { serverId: id, toolName: 'search' }),
    );
    expect(byServer.result.errors).toBeUndefined();
    expect(byServer.statements).toHaveLength(3);
    const byName = await app.countStatements(() => callTool(acme.key, { toolName: 'search' }));
    expect(byName.result.errors).toBeUndefined();
    expect(byName.statements).toHaveLength(3);
    for (const { statements } of [byServer, byName])
      expect(statements.filter((statement) => /from "circuit_breakers"/.test(statement))).toHaveLength(1);
  });

  it('applies a success at once, in its transaction, when the breaker has failures counted', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'figures-failing', { failureThreshold: 5 });
    await sql('update circuit_breakers set failure_count = 2 where server_id = ?', [id]);
    const { statements } = await app.countStatements(() =>
      callTool(acme.key, { serverId: id, toolName: 'search' }),
    );
    expect(statements.some((statement) => /update "circuit_breakers"/.test(statement))).toBe(true);
    const [breaker] = await app.orm.em
      .fork()
      .execute<{ failure_count: number }[]>(
        'select failure_count from circuit_breakers where server_id = ?',
        [id],
      );
    expect(breaker?.failure_count).toBe(0);
  });

  it('writes what is left when it closes, and keeps an open connection counted until its call ends', async () => {
    const acme = await newTenant();
    const { id } = await registerRunning(acme, 'figures-closing');
    const figures = new CallFigures({ orm: app.orm, flushIntervalMs: 60_000 });
    figures.connectionChanged(id, +1);
    figures.toolCalled(id, 'search', { succeeded: false, durationMs: 40 });
    figures.toolCalled(id, 'search', { succeeded: true, durationMs: 20 });
    await figures.flush();
    expect(await toolStats(id, 'search')).toMatchObject({ total_calls: 2, avg_execution_time: 30 });
    // The exact running mean across writes: (30 × 2 + 60) / 3.
    figures.toolCalled(id, 'search', { succeeded: false, durationMs: 60 });
    expect(await serverRow(id)).toMatchObject({ active_connections: 1 });
    expect(figures.activeConnections(id, 1)).toBe(1);
    figures.connectionChanged(id, -1);
    expect(figures.activeConnections(id, 1)).toBe(0);
    await figures.close();
    expect(await serverRow(id)).toMatchObject({ active_connections: 0 });
    expect(await toolStats(id, 'search')).toMatchObject({
      total_calls: 3,
      success_count: 1,
      error_count: 2,
      avg_execution_time: 40,
    });
  });
});

describe('the routing rules each instance keeps', () => {
  const ruleReads = /from "routing_rules"/;

  it('reads a tenant’s rules once, and applies a created or deleted rule to the very next call', async () => {
    const acme = await newTenant();
    const one = await registerRunning(acme, 'kept-one');
    const two = await registerRunning(acme, 'kept-two');
    const call = () => app.countStatements(() => callTool(acme.key, { toolName: 'search' }));
    await call();
    const warm = await call();
    expect(warm.result.errors).toBeUndefined();
    expect(warm.statements.filter((statement) => ruleReads.test(statement))).toEqual([]);

    const created = await createRule(acme.key, { name: 'to two', conditions: {}, targetServerIds: [two.id] });
    expect(created.errors).toBeUndefined();
    for (let index = 0; index < 3; index += 1) {
      expect((await call()).result.data?.callTool.serverId).toBe(two.id);
    }
    const deleted = await app.graphql({
      query: print(DeleteRoutingRuleDocument),
      variables: { id: created.data?.createRoutingRule.id },
      key: acme.key,
    });
    expect(deleted.errors).toBeUndefined();
    const answeredBy = new Set<string>();
    for (let index = 0; index < 2; index += 1)
      answeredBy.add(String((await call()).result.data?.callTool.serverId));
    expect(answeredBy).toEqual(new Set([one.id, two.id]));
  });
});
