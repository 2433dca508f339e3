import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// Agents as they connect to a virtual server's endpoint: the official SDK clients, v1 (protocol 2025-11-25,
// sessions) and v2 (2026-07-28, stateless), each sending the key as `Authorization: Bearer`.

export type AgentEra = '2025-11-25' | '2026-07-28';

/** The operations the tests run, the same for both SDK generations. */
export interface Agent {
  readonly era: AgentEra;
  readonly protocolVersion: string | undefined;
  listTools(cursor?: string): Promise<{
    tools: { name: string; description?: string; inputSchema: unknown; annotations?: unknown }[];
    nextCursor?: string;
  }>;
  callTool(
    name: string,
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<{ content: unknown[]; structuredContent?: unknown; isError?: boolean }>;
  listResources(): Promise<{ resources: { uri: string; name: string }[] }>;
  listResourceTemplates(): Promise<{ resourceTemplates: { uriTemplate: string; name: string }[] }>;
  readResource(uri: string): Promise<{ contents: unknown[] }>;
  listPrompts(): Promise<{ prompts: { name: string; description?: string }[] }>;
  getPrompt(name: string, args?: Record<string, string>): Promise<{ messages: unknown[] }>;
  /** Resolves at the next `notifications/tools/list_changed`. */
  nextToolListChange(): Promise<void>;
  close(): Promise<void>;
}

export interface CallOptions {
  readonly onProgress?: (progress: { progress: number; total?: number }) => void;
  readonly signal?: AbortSignal;
}

function requestOptions(options: CallOptions) {
  return {
    ...(options.onProgress && { onprogress: options.onProgress }),
    ...(options.signal && { signal: options.signal }),
  };
}

const CLIENT_INFO = { name: 'test-agent', version: '1.0.0' };

export async function connectAgent(era: AgentEra, url: string, key: string): Promise<Agent> {
  return era === '2025-11-25' ? connectLegacyAgent(url, key) : connectModernAgent(url, key);
}

function changeWaiter() {
  let waiting: (() => void)[] = [];
  return {
    next: () => new Promise<void>((resolve) => waiting.push(resolve)),
    fire: () => {
      const resolved = waiting;
      waiting = [];
      for (const resolve of resolved) resolve();
    },
  };
}

async function connectLegacyAgent(url: string, key: string): Promise<Agent> {
  const changes = changeWaiter();
  const client = new LegacyClient(CLIENT_INFO);
  const transport = new LegacyTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  const { ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changes.fire());
  return {
    era: '2025-11-25',
    protocolVersion: transport.protocolVersion,
    listTools: (cursor) => client.listTools(cursor === undefined ? undefined : { cursor }),
    // The v1 result type is a union with a legacy shape the tests never see.
    callTool: async (name, args = {}, options = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, requestOptions(options))) as never,
    listResources: () => client.listResources(),
    listResourceTemplates: () => client.listResourceTemplates(),
    readResource: (uri) => client.readResource({ uri }),
    listPrompts: () => client.listPrompts(),
    getPrompt: (name, args) => client.getPrompt({ name, ...(args && { arguments: args }) }),
    nextToolListChange: changes.next,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function connectModernAgent(url: string, key: string): Promise<Agent> {
  const changes = changeWaiter();
  const client = new Client(CLIENT_INFO, {
    versionNegotiation: { mode: 'auto' },
    listChanged: { tools: { onChanged: () => changes.fire() } },
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return {
    era: '2026-07-28',
    protocolVersion: client.getNegotiatedProtocolVersion(),
    listTools: (cursor) =>
      client.listTools(cursor === undefined ? undefined : { cursor }, { cacheMode: 'bypass' }),
    callTool: (name, args = {}, options = {}) =>
      client.callTool({ name, arguments: args }, requestOptions(options)),
    listResources: () => client.listResources(undefined, { cacheMode: 'bypass' }),
    listResourceTemplates: () => client.listResourceTemplates(undefined, { cacheMode: 'bypass' }),
    readResource: (uri) => client.readResource({ uri }),
    listPrompts: () => client.listPrompts(undefined, { cacheMode: 'bypass' }),
    getPrompt: (name, args) => client.getPrompt({ name, ...(args && { arguments: args }) }),
    nextToolListChange: changes.next,
    close: () => client.close(),
  };
}

/** A 2025-era `initialize` request, as a client sends it first. */
export const INITIALIZE_2025 = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'raw-agent', version: '1' },
  },
};

/**
 * One JSON-RPC message POSTed to an MCP endpoint by hand, as Streamable HTTP wants it (for what the SDK
 * clients would not send: no key, an unknown session); `key: null` sends no Authorization.
 */
export function postMcp(
  url: string,
  key: string | null,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(key !== null && { authorization: `Bearer ${key}` }),
      ...headers,
    },
    body: JSON.stringify(message),
  });
}
