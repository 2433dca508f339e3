import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CreateVirtualServerDocument, UpdateVirtualServerDocument } from './sdk/graphql.js';
import { type Agent, type AgentEra, connectAgent, INITIALIZE_2025, postMcp } from './support/agents.js';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  closedAfterAll,
  fullCatalog,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
  toolsCatalog,
} from './support/mcp-servers.js';
import { seed } from './support/seed.js';

let db: TestDatabase;
let app: TestApp;
let writer: string;
let proxy: string;
let tenant: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;
let otherProxy: string;
const started = closedAfterAll();
const agents: Agent[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  tenant = await seed(app.orm).tenant('agents-inc');
  ({ key: writer } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]));
  ({ key: proxy } = await tenant.key([ApiKeyScope.PROXY]));
  const other = await seed(app.orm).tenant('other-inc');
  ({ key: otherProxy } = await other.key([ApiKeyScope.PROXY]));
});

afterAll(async () => {
  await Promise.allSettled(agents.map((agent) => agent.close()));
  await app?.close();
  await db?.drop();
});

async function agentOn(era: AgentEra, url: string, key = proxy): Promise<Agent> {
  const agent = await connectAgent(era, url, key);
  agents.push(agent);
  return agent;
}

async function register(name: string, url: string, transportType: string, headers?: Record<string, string>) {
  const { data, errors } = await app.graphql<{ registerServer: { id: string } }>({
    query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    variables: { input: { name, endpointUrl: url, transportType, ...(headers && { headers }) } },
    key: writer,
  });
  expect(errors).toBeUndefined();
  return data?.registerServer.id ?? '';
}

async function createVirtualServer(input: Record<string, unknown>) {
  const { data, errors } = await app.graphql<{ createVirtualServer: { id: string; endpointUrl: string } }>({
    query: print(CreateVirtualServerDocument),
    variables: { input },
    key: writer,
  });
  expect(errors).toBeUndefined();
  return data?.createVirtualServer ?? { id: '', endpointUrl: '' };
}

const catalog = toolsCatalog;

const ERAS: AgentEra[] = ['2025-11-25', '2026-07-28'];

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return app.orm.em.fork().execute<T[]>(query, params);
}

/** The JSON a test server's tool answered with (`toolAnswer`). */
function answerOf(result: { content: unknown[] }): { server: string; tool: string } {
  const [block] = result.content as { text: string }[];
  return JSON.parse(block?.text ?? 'null');
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the MCP endpoint of a virtual server', () => {
  let endpoint: string;
  let virtualServerId: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    const legacy = await started(
      startStreamableHttpServer(
        { ...fullCatalog, name: 'docs', pageSize: undefined },
        { bearerToken: 'docs-secret', onRequest: (authorization) => seen.push(authorization) },
      ),
    );
    const sse = await started(startSseServer(catalog('weather', ['forecast', 'status'])));
    const modern = await started(startModernServer(catalog('maps', ['route', 'status'])));
    const docsId = await register('docs', legacy.url, 'STREAMABLE_HTTP', {
      authorization: 'Bearer docs-secret',
    });
    const weatherId = await register('weather', sse.url, 'SSE');
    const mapsId = await register('maps', modern.url, 'STREAMABLE_HTTP');
    const created = await createVirtualServer({
      name: 'everything',
      description: 'Docs, weather and maps.',
      toolNaming: 'ON_CONFLICT',
      members: [
        {
          serverId: docsId,
          overrides: [{ toolName: 'search', name: 'find_docs', description: 'Finds docs.' }],
        },
        { serverId: weatherId, prefix: 'wx' },
        { serverId: mapsId, prefix: 'maps' },
      ],
    });
    endpoint = created.endpointUrl;
    virtualServerId = created.id;
  });

  it.each(ERAS)('%s: lists the union of the members’ tools, named by the naming mode', async (era) => {
    const agent = await agentOn(era, endpoint);
    if (era === '2026-07-28') expect(agent.protocolVersion).toBe('2026-07-28');
    else expect(agent.protocolVersion).toBe('2025-11-25');
    const { tools } = await agent.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      'delete_document',
      'find_docs',
      'forecast',
      'maps__status',
      'ping_upstream',
      'route',
      'summarize',
      'translate',
      'wx__status',
    ]);
    const find = tools.find((tool) => tool.name === 'find_docs');
    expect(find?.description).toBe('Finds docs.');
    expect(find?.inputSchema).toEqual(fullCatalog.tools?.[0]?.inputSchema);
    expect(find?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
  });

  it.each(ERAS)(
    '%s: a call reaches the member that offers it, with its stored headers, unchanged',
    async (era) => {
      const agent = await agentOn(era, endpoint);
      seen.length = 0;
      const result = await agent.callTool('find_docs', { query: 'gateway' });
      expect(result.content).toEqual([
        {
          type: 'text',
          text: JSON.stringify({ server: 'docs', tool: 'search', arguments: { query: 'gateway' } }),
        },
      ]);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((authorization) => authorization === 'Bearer docs-secret')).toBe(true);
      const weather = await agent.callTool('wx__status', {});
      expect(weather.content).toEqual([
        { type: 'text', text: JSON.stringify({ server: 'weather', tool: 'status', arguments: {} }) },
      ]);
      const failed = await agent.callTool('route', { fail: true });
      expect(failed).toMatchObject({
        isError: true,
        content: [{ type: 'text', text: 'route failed as asked' }],
      });
    },
  );

  it.each(ERAS)(
    '%s: resources and prompts are listed and read from the member that has them',
    async (era) => {
      const agent = await agentOn(era, endpoint);
      const { resources } = await agent.listResources();
      expect(resources.map((resource) => resource.uri)).toEqual(
        fullCatalog.resources?.map((resource) => resource.uri).sort(),
      );
      const { resourceTemplates } = await agent.listResourceTemplates();
      expect(resourceTemplates.map((template) => template.uriTemplate).sort()).toEqual(
        fullCatalog.resourceTemplates?.map((template) => template.uriTemplate).sort(),
      );
      const read = await agent.readResource('docs://readme');
      expect(read.contents).toEqual([
        { uri: 'docs://readme', mimeType: 'text/plain', text: 'docs read docs://readme' },
      ]);
      const templated = await agent.readResource('users://42/profile');
      expect(templated.contents).toMatchObject([{ text: 'docs read users://42/profile' }]);
      const { prompts } = await agent.listPrompts();
      expect(prompts.map((prompt) => prompt.name)).toEqual(['greet', 'review']);
      const prompt = await agent.getPrompt('review', { id: '7' });
      expect(prompt.messages).toEqual([
        {
          role: 'user',
          content: { type: 'text', text: `docs prompt review ${JSON.stringify({ id: '7' })}` },
        },
      ]);
    },
  );

  it('2025 sessions: answers a call as one JSON body, and as an event stream when it asks for progress', async () => {
    const initialize = await postMcp(endpoint, proxy, INITIALIZE_2025);
    const session = {
      'mcp-session-id': initialize.headers.get('mcp-session-id') ?? '',
      'mcp-protocol-version': '2025-11-25',
    };
    await initialize.body?.cancel();
    const call = (meta: Record<string, unknown>) =>
      postMcp(
        endpoint,
        proxy,
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'wx__status', arguments: {}, _meta: meta },
        },
        session,
      );
    const plain = await call({});
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await plain.json()).toMatchObject({ id: 2, result: { content: [{ type: 'text' }] } });
    const streamed = await call({ progressToken: 'p1' });
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await streamed.text()).toContain('"id":2');
    // A body that is not JSON (read once by the endpoint) is the SDK's to refuse, its header checks first.
    const garbled = (contentType: string) =>
      fetch(endpoint, {
        method: 'POST',
        headers: {
          ...session,
          'content-type': contentType,
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${proxy}`,
        },
        body: '{"jsonrpc":',
      });
    const notJson = await garbled('application/json');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: -32700 } });
    expect((await garbled('text/plain')).status).toBe(415);
  });

  it.each(ERAS)('%s: an unknown tool is an MCP error, not a hang', async (era) => {
    const agent = await agentOn(era, endpoint);
    await expect(agent.callTool('no_such_tool')).rejects.toThrow(/Unknown tool: no_such_tool/);
  });

  it('refuses without a key (401 with a Bearer challenge), without PROXY (403), and hides other tenants (404)', async () => {
    const initialize = (key: string | null, url = endpoint) => postMcp(url, key, INITIALIZE_2025);
    const anonymous = await initialize(null);
    expect(anonymous.status).toBe(401);
    // Without OIDC there is nowhere to sign in: no resource_metadata, and no metadata document.
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="mcp-registry-gateway"');
    expect(await anonymous.json()).toMatchObject({ error: { data: { code: 'UNAUTHENTICATED' } } });
    const { pathname } = new URL(endpoint);
    expect((await fetch(`${app.origin}/.well-known/oauth-protected-resource${pathname}`)).status).toBe(404);
    expect((await initialize('not-a-key')).status).toBe(401);
    const readOnly = await initialize(writer);
    expect(readOnly.status).toBe(403);
    const otherTenant = await initialize(otherProxy);
    const unknown = await initialize(proxy, `${app.origin}/mcp/00000000-0000-4000-8000-000000000000`);
    const garbage = await initialize(proxy, `${app.origin}/mcp/nope`);
    expect([otherTenant.status, unknown.status, garbage.status]).toEqual([404, 404, 404]);
    const bodies = (await Promise.all([otherTenant.json(), unknown.json()])) as {
      error: { message: string };
    }[];
    expect(bodies[0]?.error.message.replace(virtualServerId, 'ID')).toBe(
      bodies[1]?.error.message.replace('00000000-0000-4000-8000-000000000000', 'ID'),
    );
  });

  it.each(ERAS)(
    '%s: a known catalog’s tools/call is two statements: its servers with their headers and breakers, and its audit row',
    async (era) => {
      const upstream = await started(startModernServer(catalog(`counted-${era}`, ['alpha'])));
      const serverId = await register(`counted-${era}`, upstream.url, 'STREAMABLE_HTTP');
      const created = await createVirtualServer({
        name: `counted-${era}`,
        members: [{ serverId, prefix: 'n' }],
      });
      const agent = await agentOn(era, created.endpointUrl);
      await agent.callTool('n__alpha', {}); // the catalog and the session, kept from now on
      const call = await app.countStatements(() => agent.callTool('n__alpha', {}));
      expect(answerOf(call.result)).toMatchObject({ tool: 'alpha' });
      expect(call.statements).toHaveLength(2);
      expect(call.statements[0]).toMatch(
        /^\[query\] select .*"circuit_breakers".* from "mcp_servers" as "s"/,
      );
      expect(call.statements[1]).toMatch(/^\[query\] insert into "audit_logs"/);
    },
  );

  it('serves a known catalog without reading the registry, and the next request after an edit sees it', async () => {
    const upstream = await started(startModernServer(catalog('cached', ['alpha', 'beta'])));
    const serverId = await register('cached', upstream.url, 'STREAMABLE_HTTP');
    const created = await createVirtualServer({ name: 'cached', members: [{ serverId, prefix: 'c' }] });
    const agent = await agentOn('2026-07-28', created.endpointUrl);
    expect((await agent.listTools()).tools.map((tool) => tool.name)).toEqual(['c__alpha', 'c__beta']);
    const registryReads = /from "(virtual_servers|virtual_server_members|server_tools)"|from server_tools/;
    const again = await app.countStatements(() => agent.listTools());
    expect(again.result.tools.map((tool) => tool.name)).toEqual(['c__alpha', 'c__beta']);
    expect(again.statements.filter((statement) => registryReads.test(statement))).toEqual([]);
    const call = await app.countStatements(() => agent.callTool('c__beta', {}));
    expect(answerOf(call.result)).toMatchObject({ server: 'cached', tool: 'beta' });
    expect(call.statements.filter((statement) => registryReads.test(statement))).toEqual([]);

    const update = (input: Record<string, unknown>) =>
      app.graphql({
        query: print(UpdateVirtualServerDocument),
        variables: { id: created.id, input },
        key: writer,
      });
    expect(
      (await update({ members: [{ serverId, prefix: 'renamed', toolNames: ['alpha'] }] })).errors,
    ).toBeUndefined();
    expect((await agent.listTools()).tools.map((tool) => tool.name)).toEqual(['renamed__alpha']);
    await expect(agent.callTool('c__beta', {})).rejects.toThrow(/Unknown tool: c__beta/);
    expect((await update({ isActive: false })).errors).toBeUndefined();
    expect((await postMcp(created.endpointUrl, proxy, INITIALIZE_2025)).status).toBe(404);
  });

  it.each(ERAS)(
    '%s: a key revoked while its agent is connected is refused at the next request',
    async (era) => {
      const { key, id } = await tenant.key([ApiKeyScope.PROXY]);
      const agent = await agentOn(era, endpoint, key);
      await agent.listTools();
      const { errors } = await app.graphql({
        query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
        variables: { id },
        key: ADMIN_KEY,
      });
      expect(errors).toBeUndefined();
      await expect(agent.listTools()).rejects.toThrow(/401|Unauthorized|API key/i);
    },
  );

  it('counts agent requests against the key’s rate limit: 429 with Retry-After past it', async () => {
    const { key } = await tenant.key([ApiKeyScope.PROXY], { rateLimitPerHour: 2 });
    const list = () => postMcp(endpoint, key, INITIALIZE_2025);
    expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(200);
    const refused = await list();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED' } } });
  });

  it('2025 sessions: a request without a session is refused, an unknown or ended session is 404', async () => {
    const post = (headers: Record<string, string>) =>
      postMcp(
        endpoint,
        proxy,
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        { 'mcp-protocol-version': '2025-11-25', ...headers },
      );
    expect((await post({})).status).toBe(400);
    expect((await post({ 'mcp-session-id': '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
  });

  it.each(ERAS)('%s: a membership edit reaches the connected agent as tools/list_changed', async (era) => {
    const agent = await agentOn(era, endpoint);
    await agent.listTools();
    const changed = agent.nextToolListChange();
    // Give a 2025 session's standing stream (opened after initialize) a moment to be there.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { errors } = await app.graphql({
      query: print(UpdateVirtualServerDocument),
      variables: { id: virtualServerId, input: { description: `edited for ${era}` } },
      key: writer,
    });
    expect(errors).toBeUndefined();
    await changed;
  });
});

describe('routing an agent’s calls', () => {
  let primaryId: string;
  let backupId: string;
  let endpoint: string;
  let virtualServerId: string;
  let primary: Awaited<ReturnType<typeof startStreamableHttpServer>>;

  beforeAll(async () => {
    primary = await started(startStreamableHttpServer(catalog('primary', ['lookup', 'slow'])));
    const backup = await started(
      startModernServer(catalog('backup', ['lookup', 'slow'], { name: 'backup' })),
    );
    primaryId = await register('primary', primary.url, 'STREAMABLE_HTTP');
    backupId = await register('backup', backup.url, 'STREAMABLE_HTTP');
    const created = await createVirtualServer({
      name: 'failover',
      members: [
        { serverId: primaryId, prefix: 'p' },
        { serverId: backupId, prefix: 'b' },
      ],
    });
    endpoint = created.endpointUrl;
    virtualServerId = created.id;
  });

  it('a key limited to some servers lists and calls only their tools', async () => {
    const { key: limited } = await tenant.key([ApiKeyScope.PROXY], {
      allowedServers: [backupId],
    });
    for (const era of ERAS) {
      const agent = await agentOn(era, endpoint, limited);
      const { tools } = await agent.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['b__lookup', 'b__slow']);
      await expect(agent.callTool('p__lookup')).rejects.toThrow(/Unknown tool: p__lookup/);
      expect(answerOf(await agent.callTool('b__lookup')).server).toBe('backup');
    }
  });

  it.each(ERAS)('%s: progress of the upstream reaches the agent', async (era) => {
    const agent = await agentOn(era, endpoint);
    const progress: number[] = [];
    const result = await agent.callTool(
      'p__slow',
      { progress: 3 },
      { onProgress: (p) => progress.push(p.progress) },
    );
    expect(answerOf(result).server).toBe('primary');
    if (era === '2025-11-25') expect(progress).toEqual([1, 2, 3]);
  });

  it('2025-11-25: a cancelled call is aborted (its session cancels it by notification) and audited as CANCELLED', async () => {
    const agent = await agentOn('2025-11-25', endpoint);
    const controller = new AbortController();
    const call = agent.callTool('p__slow', { hang: true }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await expect(call).rejects.toThrow();
    const failures = await eventually(
      () =>
        sql<{ error: string }>(
          "select details->>'error' as error from audit_logs where action = 'tool.call' and not success " +
            "and resource_id = ? and details->>'toolName' = 'slow'",
          [primaryId],
        ),
      (rows) => rows.length > 0,
    );
    expect(failures).toEqual([{ error: 'CANCELLED' }]);
  });

  it.each(ERAS)('%s: each call is audited and request-logged with the virtual server named', async (era) => {
    const agent = await agentOn(era, endpoint);
    await agent.callTool('b__lookup', { n: era });
    // Written behind the answer (audit-writes.ts): committed once the writes in flight have settled.
    await app.auditWrites.settled();
    const [audit] = await sql<{ details: Record<string, unknown>; success: boolean }>(
      "select details, success from audit_logs where action = 'tool.call' and resource_id = ? " +
        "and details->>'virtualServerId' = ? order by created_at desc limit 1",
      [backupId, virtualServerId],
    );
    expect(audit).toMatchObject({ success: true, details: { toolName: 'lookup', outcome: 'ok' } });
    const logged = await eventually(
      () =>
        sql<{ operation_name: string }>(
          "select operation_name from request_logs where path = ? and operation_name = 'tools/call'",
          [`/mcp/${virtualServerId}`],
        ),
      (rows) => rows.length > 0,
    );
    expect(logged.length).toBeGreaterThan(0);
    const metrics = await (
      await fetch(`${app.origin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    expect(metrics).toMatch(/^mcp_gateway_tool_calls_total\{via="mcp",outcome="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^mcp_gateway_mcp_requests_total\{method="tools\/call",status="200"\} [1-9]/m);
  });

  it.each(ERAS)(
    '%s: fails over to another member when the named one is down, then names what was skipped',
    async (era) => {
      const agent = await agentOn(era, endpoint);
      await primary.close();
      const failedOver = await agent.callTool('p__lookup', {});
      expect(answerOf(failedOver).server).toBe('backup');
      await sql("update circuit_breakers set state = 'open', opened_at = now() where server_id in (?, ?)", [
        primaryId,
        backupId,
      ]);
      try {
        const refused = await agent.callTool('p__lookup', {});
        expect(refused.isError).toBe(true);
        const [block] = refused.content as { text: string }[];
        expect(block?.text).toContain(`server ${primaryId} skipped: CIRCUIT_OPEN`);
        expect(block?.text).toContain(`server ${backupId} skipped: CIRCUIT_OPEN`);
        // Once its cool-down has passed, an OPEN circuit lets a trial call through.
        await sql("update circuit_breakers set opened_at = now() - interval '1 day' where server_id = ?", [
          backupId,
        ]);
        expect(answerOf(await agent.callTool('p__lookup', {})).server).toBe('backup');
        // Tools of servers that are down stay listed: an agent's list does not flap with health.
        expect((await agent.listTools()).tools.map((tool) => tool.name)).toContain('p__lookup');
        await sql("update mcp_servers set health_status = 'unhealthy' where id in (?, ?)", [
          primaryId,
          backupId,
        ]);
        expect((await agent.listTools()).tools.map((tool) => tool.name)).toEqual([
          'b__lookup',
          'b__slow',
          'p__lookup',
          'p__slow',
        ]);
      } finally {
        await sql(
          "update circuit_breakers set state = 'closed', opened_at = null where server_id in (?, ?)",
          [primaryId, backupId],
        );
        await sql("update mcp_servers set health_status = 'unknown' where id in (?, ?)", [
          primaryId,
          backupId,
        ]);
      }
    },
  );
});

describe('upstream sessions', () => {
  it('are reused across calls, and a call after the upstream restarted opens a new one', async () => {
    let upstream = await startStreamableHttpServer(catalog('pooled', ['echo']));
    const port = Number(new URL(upstream.url).port);
    try {
      const serverId = await register('pooled', upstream.url, 'STREAMABLE_HTTP');
      const { endpointUrl } = await createVirtualServer({
        name: 'pooled',
        members: [{ serverId, prefix: 'x' }],
      });
      const opened = upstream.openedSessions();
      const agent = await agentOn('2026-07-28', endpointUrl);
      for (let call = 0; call < 5; call += 1) {
        expect(answerOf(await agent.callTool('x__echo', { call })).server).toBe('pooled');
      }
      // Registration's discovery had a session of its own; the five calls shared one.
      expect(upstream.openedSessions() - opened).toBe(1);
      await upstream.close();
      upstream = await startStreamableHttpServer(catalog('pooled', ['echo']), { port });
      // The old session is unknown to the restarted server: the call is sent again on a new one.
      expect(answerOf(await agent.callTool('x__echo', { after: 'restart' })).server).toBe('pooled');
      expect(upstream.openedSessions()).toBe(1);
    } finally {
      await upstream.close();
    }
  });
});
