import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import {
  CallToolDocument,
  CreateRoutingRuleDocument,
  CreateVirtualServerDocument,
  UpdateVirtualServerDocument,
} from './sdk/graphql.js';
import { INITIALIZE_2025, postMcp } from './support/agents.js';
import { type Fleet, startFleet, type TestApp } from './support/app.js';
import { postgresAvailable, redisAvailable } from './support/database.js';
import { eventually } from './support/eventually.js';
import { closedAfterAll, startModernServer, toolsCatalog } from './support/mcp-servers.js';
import { seed } from './support/seed.js';
import { REDIS_URL } from './support/services.js';

// What each instance keeps for agents (gateway/agent-catalogs.ts, gateway/agent-sessions.ts), across a fleet on
// one PostgreSQL and one Redis: a request on a known session to a known virtual server reads neither, and a
// change made on one instance reaches what the other keeps. Structural checks count statements, never time.

const keptReads = /from "(agent_sessions|virtual_servers|virtual_server_members)"|from server_tools/;

describe.skipIf(!postgresAvailable() || !redisAvailable())('what instances keep for agents', () => {
  let fleet: Fleet;
  let writer: string;
  let proxy: string;
  const started = closedAfterAll();

  beforeAll(async () => {
    fleet = await startFleet({ REDIS_URL });
    const tenant = await seed(fleet.instanceA.orm).tenant('agent-caches');
    ({ key: writer } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]));
    ({ key: proxy } = await tenant.key([ApiKeyScope.PROXY]));
  });

  afterAll(() => fleet?.close());

  async function virtualServerOn(app: TestApp, name: string) {
    const upstream = await started(startModernServer(toolsCatalog(name, ['alpha', 'beta'])));
    const registered = await app.graphql<{ registerServer: { id: string } }>({
      query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      variables: { input: { name, endpointUrl: upstream.url, transportType: 'STREAMABLE_HTTP' } },
      key: writer,
    });
    const serverId = registered.data?.registerServer.id ?? '';
    const created = await app.graphql<{ createVirtualServer: { id: string } }>({
      query: print(CreateVirtualServerDocument),
      variables: { input: { name, members: [{ serverId, prefix: 'p' }] } },
      key: writer,
    });
    expect(created.errors).toBeUndefined();
    return { serverId, id: created.data?.createVirtualServer.id ?? '' };
  }

  async function openSession(app: TestApp, id: string): Promise<string> {
    const response = await postMcp(`${app.origin}/mcp/${id}`, proxy, INITIALIZE_2025);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    return response.headers.get('mcp-session-id') ?? '';
  }

  function onSession(app: TestApp, id: string, sessionId: string, message: unknown, method = 'POST') {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${proxy}`,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    };
    return fetch(`${app.origin}/mcp/${id}`, {
      method,
      headers,
      ...(method === 'POST' && { body: JSON.stringify(message) }),
    });
  }

  async function listedNames(app: TestApp, id: string, sessionId: string) {
    const response = await onSession(app, id, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const text = await response.text();
    return {
      status: response.status,
      names: [...text.matchAll(/"name":"([^"]+)"/g)].map((match) => match[1]),
    };
  }

  it('serves a known session and catalog from memory, and hears an edit and an ended session from the other instance', async () => {
    const { instanceA, instanceB } = fleet;
    const { serverId, id } = await virtualServerOn(instanceA, 'kept');
    const sessionId = await openSession(instanceA, id);
    await eventually(async () => {
      const { result, statements } = await instanceB.countStatements(() =>
        listedNames(instanceB, id, sessionId),
      );
      return result.status === 200 && statements.filter((sql) => keptReads.test(sql)).length === 0;
    }, 'instance B answers from what it keeps');
    expect((await listedNames(instanceB, id, sessionId)).names).toEqual(['p__alpha', 'p__beta']);

    const edited = await instanceA.graphql({
      query: print(UpdateVirtualServerDocument),
      variables: { id, input: { members: [{ serverId, prefix: 'q', toolNames: ['beta'] }] } },
      key: writer,
    });
    expect(edited.errors).toBeUndefined();
    await eventually(
      async () => (await listedNames(instanceB, id, sessionId)).names.join() === 'q__beta',
      'instance B lists the edited catalog',
    );

    const ended = await onSession(instanceA, id, sessionId, null, 'DELETE');
    expect(ended.status).toBe(200);
    expect((await listedNames(instanceB, id, sessionId)).status).toBe(404);
  });

  it('routes calls on instance B by a rule created on instance A', async () => {
    const { instanceA, instanceB } = fleet;
    const { serverId: first } = await virtualServerOn(instanceA, 'ruled-one');
    const { serverId: second } = await virtualServerOn(instanceA, 'ruled-two');
    const answeredOnB = async () => {
      const { data, errors } = await instanceB.graphql<{ callTool: { serverId: string } }>({
        query: print(CallToolDocument),
        variables: { input: { toolName: 'alpha' } },
        key: proxy,
      });
      expect(errors).toBeUndefined();
      return data?.callTool.serverId;
    };
    // Round robin before (B now keeps the tenant's rules: none).
    const before = new Set([await answeredOnB(), await answeredOnB(), await answeredOnB()]);
    expect(before.has(first)).toBe(true);
    const rule = await instanceA.graphql({
      query: print(CreateRoutingRuleDocument),
      variables: { input: { name: 'to the second', conditions: {}, targetServerIds: [second] } },
      key: writer,
    });
    expect(rule.errors).toBeUndefined();
    await eventually(async () => {
      const answered = [await answeredOnB(), await answeredOnB(), await answeredOnB()];
      return answered.every((serverId) => serverId === second);
    }, 'instance B routes by the new rule');
  });
});
