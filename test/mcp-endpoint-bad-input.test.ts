import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { CreateVirtualServerDocument } from './sdk/graphql.js';
import { INITIALIZE_2025 } from './support/agents.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { closedAfterAll, startModernServer } from './support/mcp-servers.js';
import { seed } from './support/seed.js';

let db: TestDatabase;
let app: TestApp;
let proxy: string;
let endpoint: string;
const started = closedAfterAll();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const tenant = await seed(app.orm).tenant('careless-agents');
  const { key: writer } = await tenant.key([ApiKeyScope.READ, ApiKeyScope.WRITE]);
  ({ key: proxy } = await tenant.key([ApiKeyScope.PROXY]));
  const upstream = await started(
    startModernServer({
      name: 'up',
      version: '1',
      tools: [{ name: 'echo', inputSchema: { type: 'object' } }],
    }),
  );
  const registered = await app.graphql<{ registerServer: { id: string } }>({
    query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    variables: { input: { name: 'up', endpointUrl: upstream.url, transportType: 'STREAMABLE_HTTP' } },
    key: writer,
  });
  const created = await app.graphql<{ createVirtualServer: { endpointUrl: string } }>({
    query: print(CreateVirtualServerDocument),
    variables: { input: { name: 'v', members: [{ serverId: registered.data?.registerServer.id }] } },
    key: writer,
  });
  endpoint = created.data?.createVirtualServer.endpointUrl ?? '';
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Requests no client should send; each gets a 4xx (never a 5xx, never a stack), and the server keeps serving. */
const CASES: [string, RequestInit][] = [
  ['a body that is not JSON', { method: 'POST', headers: JSON_HEADERS, body: '{"jsonrpc":' }],
  ['JSON that is not JSON-RPC', { method: 'POST', headers: JSON_HEADERS, body: '{"hello":"world"}' }],
  ['a JSON string', { method: 'POST', headers: JSON_HEADERS, body: '"initialize"' }],
  ['an empty batch', { method: 'POST', headers: JSON_HEADERS, body: '[]' }],
  [
    'a batch of initialize',
    { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify([INITIALIZE_2025]) },
  ],
  ['text/plain', { method: 'POST', headers: { ...JSON_HEADERS, 'content-type': 'text/plain' }, body: '{}' }],
  [
    'no Accept',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(INITIALIZE_2025),
    },
  ],
  [
    'an unknown protocol version',
    {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-protocol-version': '1999-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    },
  ],
  [
    'a body over the limit',
    {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...INITIALIZE_2025, pad: 'x'.repeat(2_000_000) }),
    },
  ],
  ['PUT', { method: 'PUT', headers: JSON_HEADERS, body: '{}' }],
  ['GET without a session', { method: 'GET', headers: { accept: 'text/event-stream' } }],
  ['DELETE without a session', { method: 'DELETE' }],
  [
    'a session id that is no UUID',
    { method: 'DELETE', headers: { 'mcp-session-id': "'; drop table x; --" } },
  ],
];

describe('bad input on /mcp/{id}', () => {
  it.each(CASES)('%s: a 4xx, no stack, and the endpoint keeps serving', async (_name, init) => {
    const response = await fetch(endpoint, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${proxy}` },
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const text = await response.text();
    expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    expect(text).not.toMatch(/node_modules|\/work\//);
    const initialized = await fetch(endpoint, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${proxy}` },
      body: JSON.stringify(INITIALIZE_2025),
    });
    expect(initialized.status).toBe(200);
    await initialized.body?.cancel();
  });
});
