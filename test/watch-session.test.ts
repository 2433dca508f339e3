import { describe, expect, it } from 'vitest';
import { McpInspectionError, openWatchSession, type WatchedList } from '../src/mcp/mcp-client.js';
import { eventually } from './support/eventually.js';
import {
  type ChangingServer,
  closedAfterAll,
  fullCatalog,
  type RunningServer,
  type ServerCatalog,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
} from './support/mcp-servers.js';

const started = closedAfterAll();

const announcing: ServerCatalog = { ...fullCatalog, listChanged: ['tools', 'resources', 'prompts'] };
const newTool = { name: 'brand_new', inputSchema: { type: 'object' as const } };

/** Opens a watch session and records what it reports. */
async function watch(server: RunningServer, transport: 'streamable_http' | 'sse') {
  const changes: WatchedList[] = [];
  const lost: string[] = [];
  const session = await openWatchSession({ endpointUrl: server.url, transport, headers: null }, 5000, {
    onChanged: (list) => changes.push(list),
    onLost: (reason) => lost.push(reason),
  });
  return { session, changes, lost };
}

describe('a watch session', () => {
  const eras: [string, () => Promise<ChangingServer>, 'streamable_http' | 'sse', string][] = [
    [
      '2025-11-25 over Streamable HTTP',
      () => startStreamableHttpServer(announcing),
      'streamable_http',
      '2025-11-25',
    ],
    ['2025-11-25 over legacy SSE', () => startSseServer(announcing), 'sse', '2025-11-25'],
    [
      '2026-07-28 (subscriptions/listen)',
      () => startModernServer(announcing),
      'streamable_http',
      '2026-07-28',
    ],
  ];

  it.each(eras)(
    'reports each list a %s server says changed, and ends cleanly',
    async (_, start, transport, version) => {
      const server = await started(start());
      const { session, changes, lost } = await watch(server, transport);
      expect(session.protocolVersion).toBe(version);
      expect(session.lists).toEqual(['tools', 'resources', 'prompts']);
      expect(server.listeners()).toBe(1);

      await server.change({ tools: [...(fullCatalog.tools ?? []), newTool] }, ['tools']);
      await eventually(() => changes.includes('tools'), 'the tools change is reported');
      await server.change({ prompts: [] }, ['resources', 'prompts']);
      await eventually(
        () => changes.includes('resources') && changes.includes('prompts'),
        'both changes are reported',
      );
      expect(new Set(changes)).toEqual(new Set(['tools', 'resources', 'prompts']));

      await session.close();
      await session.close();
      await eventually(() => server.listeners() === 0, 'the server sees the session end');
      expect(lost).toEqual([]);
    },
  );

  it.each(eras.slice(0, 2))(
    'is lost, once, when a %s server drops its stream',
    async (_, start, transport) => {
      const server = (await started(start())) as ChangingServer & { dropListeners(): void };
      const { session, lost } = await watch(server, transport);
      server.dropListeners();
      await eventually(() => lost.length > 0, 'the session reports it was lost');
      expect(lost).toHaveLength(1);
      await session.close();
      expect(lost).toHaveLength(1);
    },
  );

  it('fails to open, classified, against a server that announces no list changes', async () => {
    const server = await started(startStreamableHttpServer({ ...fullCatalog, listChanged: [] }));
    const failure = await watch(server, 'streamable_http').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(McpInspectionError);
    expect(failure).toMatchObject({ outcome: 'protocol_error' });
    await eventually(() => server.listeners() === 0, 'nothing stays open');
  });
});
