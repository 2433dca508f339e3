import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type {
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Server as LegacySdkServer } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  createMcpHandler,
  InMemoryServerEventBus,
  Server as ModernSdkServer,
  ProtocolError,
} from '@modelcontextprotocol/server';
import { afterAll } from 'vitest';

/** A real MCP server (or a broken imitation) listening on 127.0.0.1. */
export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * What a test server offers. A list that is undefined is not served (and, but for resources and their
 * templates, which share one capability, not announced); an empty list is announced and answers with no
 * items. The items are plain MCP objects, served as they are.
 *
 * The servers are the SDKs' low-level `Server` classes with list handlers of their own: `McpServer` (v1
 * and v2 alike) never pages its lists, and the client must be shown following `nextCursor`.
 */
export interface ServerCatalog {
  readonly name: string;
  readonly version: string;
  readonly instructions?: string;
  readonly tools?: Tool[];
  readonly resources?: Resource[];
  readonly resourceTemplates?: ResourceTemplate[];
  readonly prompts?: Prompt[];
  /** Items per list page; the lists answer with `nextCursor` until the last page. Unpaged when unset. */
  readonly pageSize?: number;
  /** The served lists whose changes the server announces (`listChanged`); `['tools']` when unset. */
  readonly listChanged?: readonly ListName[];
}

/** The lists a server can announce changes of. */
export type ListName = 'tools' | 'resources' | 'prompts';

/** A running server whose catalog a test changes while clients are connected. */
export interface ChangingServer extends RunningServer {
  /**
   * Serves the catalog with `changes` from now on and sends `notifications/<list>/list_changed` for each of
   * `lists` to every session listening.
   */
  change(changes: Partial<ServerCatalog>, lists: readonly ListName[]): Promise<void>;
  /** Sessions listening for notifications now: open standing event streams (2025), subscriptions (2026). */
  listeners(): number;
}

/** A 2025-era server, whose standing streams a test can end (as a restart or a proxy timeout would). */
export interface StreamingServer extends ChangingServer {
  /** Ends every standing event stream; the sessions themselves stay known to the server. */
  dropListeners(): void;
}

/** The current catalog of a server, changed by `ChangingServer.change`. */
class LiveCatalog {
  constructor(public current: ServerCatalog) {}

  change(changes: Partial<ServerCatalog>): void {
    this.current = { ...this.current, ...changes };
  }
}

/** Sends the list-changed notifications of `lists` through a 2025-era (SDK v1) server session. */
async function notifyLegacy(server: LegacySdkServer, lists: readonly ListName[]): Promise<void> {
  const send = {
    tools: 'sendToolListChanged',
    resources: 'sendResourceListChanged',
    prompts: 'sendPromptListChanged',
  } as const;
  // A session without a standing stream has nowhere to deliver them: the SDK drops or rejects them.
  await Promise.all(lists.map((list) => server[send[list]]().catch(() => {})));
}

export interface HttpServerOptions {
  /** Requests without `Authorization: Bearer <token>` get 401, a wrong token gets 403. */
  readonly bearerToken?: string;
  /** Listen on this port (to bring a stopped server back at the same URL); a free one otherwise. */
  readonly port?: number;
  /** Sees every request first, with the Authorization header it carries (what a test checks was sent). */
  readonly onRequest?: (authorization: string | undefined, headers: IncomingHttpHeaders) => void;
  /** Sees the params of every `tools/call`, its `_meta` included, before the tool answers. */
  readonly onToolCall?: (params: ToolCallParams) => void;
}

/** The params of a `tools/call` as a test server received them. */
export interface ToolCallParams {
  readonly name: string;
  readonly arguments?: Record<string, unknown>;
  readonly _meta?: Record<string, unknown>;
}

/** A catalog with every kind of item, paged in twos so the client has to follow cursors. */
/** A catalog of plain tools, each described as "<tool> of <name>" and taking any object. */
export const toolsCatalog = (
  name: string,
  tools: string[],
  extra: Partial<ServerCatalog> = {},
): ServerCatalog => ({
  name,
  version: '1.0.0',
  tools: tools.map((tool) => ({
    name: tool,
    description: `${tool} of ${name}`,
    inputSchema: { type: 'object' },
  })),
  ...extra,
});

export const fullCatalog: ServerCatalog = {
  name: 'fixture-server',
  version: '1.4.2',
  instructions: 'Use search before fetch.',
  pageSize: 2,
  tools: [
    {
      name: 'search',
      title: 'Search documents',
      description: 'Full-text search over the document store.',
      inputSchema: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 50 } },
        required: ['query'],
      },
      outputSchema: {
        type: 'object',
        properties: { hits: { type: 'array', items: { type: 'string' } } },
        required: ['hits'],
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    {
      name: 'delete_document',
      description: 'Deletes a document by id.',
      inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      annotations: { title: 'Delete', destructiveHint: true, idempotentHint: true },
    },
    { name: 'ping_upstream', inputSchema: { type: 'object' } },
    { name: 'summarize', description: 'Summarizes text.', inputSchema: { type: 'object', properties: {} } },
    { name: 'translate', inputSchema: { type: 'object', properties: { to: { type: 'string' } } } },
  ],
  resources: [
    { uri: 'docs://readme', name: 'readme', mimeType: 'text/markdown', description: 'The README.' },
    { uri: 'docs://changelog', name: 'changelog' },
    { uri: 'file:///etc/app.json', name: 'config', mimeType: 'application/json' },
  ],
  resourceTemplates: [
    { uriTemplate: 'docs://{id}', name: 'document', mimeType: 'text/plain', description: 'One document.' },
    { uriTemplate: 'users://{userId}/profile', name: 'profile' },
  ],
  prompts: [
    {
      name: 'review',
      description: 'Review a document.',
      arguments: [
        { name: 'id', description: 'Document id', required: true },
        { name: 'tone', required: false },
      ],
    },
    { name: 'greet' },
  ],
};

/** 2025-11-25 era over Streamable HTTP with sessions (SDK v1): one session per `initialize`. */
export async function startStreamableHttpServer(
  catalog: ServerCatalog = fullCatalog,
  options: HttpServerOptions = {},
): Promise<
  StreamingServer & { readonly terminatedSessions: () => number; readonly openedSessions: () => number }
> {
  const live = new LiveCatalog(catalog);
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: LegacySdkServer }>();
  const standingStreams = new Set<ServerResponse>();
  let terminated = 0;
  let opened = 0;
  const http = createServer(
    guarded(options, async (req, res) => {
      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (existing) {
        if (req.method === 'GET') {
          standingStreams.add(res);
          res.on('close', () => standingStreams.delete(res));
        }
        return existing.transport.handleRequest(req, res);
      }
      // Anything that is not a known session gets a fresh transport: it answers `initialize`, and
      // rejects everything else (the 2026 `server/discover` probe included) with 400, as deployed servers do.
      const server = legacyServer(live, options);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server });
          opened += 1;
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
          terminated += 1;
        },
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    }),
  );
  const url = await listen(http, '/mcp', options.port);
  return {
    url,
    terminatedSessions: () => terminated,
    openedSessions: () => opened,
    listeners: () => standingStreams.size,
    dropListeners: () => {
      for (const res of standingStreams) res.destroy();
    },
    change: async (changes, lists) => {
      live.change(changes);
      await Promise.all([...sessions.values()].map(({ server }) => notifyLegacy(server, lists)));
    },
    close: async () => {
      await Promise.all([...sessions.values()].map(({ transport }) => transport.close()));
      await closeHttp(http);
    },
  };
}

/** 2025-11-25 era over the legacy HTTP+SSE transport (SDK v1): GET /sse opens the stream, POST /messages. */
export async function startSseServer(
  catalog: ServerCatalog = fullCatalog,
  options: HttpServerOptions = {},
): Promise<StreamingServer> {
  const live = new LiveCatalog(catalog);
  const streams = new Map<
    string,
    { transport: SSEServerTransport; server: LegacySdkServer; res: ServerResponse }
  >();
  const http = createServer(
    guarded(options, async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      if (req.method === 'GET' && path === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        const server = legacyServer(live, options);
        streams.set(transport.sessionId, { transport, server, res });
        transport.onclose = () => streams.delete(transport.sessionId);
        await server.connect(transport);
        return;
      }
      const sessionId = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('sessionId');
      const stream = req.method === 'POST' && path === '/messages' && streams.get(sessionId ?? '');
      if (!stream) {
        res.writeHead(404).end();
        return;
      }
      await stream.transport.handlePostMessage(req, res);
    }),
  );
  const url = await listen(http, '/sse', options.port);
  return {
    url,
    listeners: () => streams.size,
    dropListeners: () => {
      for (const { res } of streams.values()) res.destroy();
    },
    change: async (changes, lists) => {
      live.change(changes);
      await Promise.all([...streams.values()].map(({ server }) => notifyLegacy(server, lists)));
    },
    close: async () => {
      await Promise.all([...streams.values()].map(({ transport }) => transport.close()));
      await closeHttp(http);
    },
  };
}

/**
 * 2026-07-28 era (SDK v2 `createMcpHandler`), stateless. `legacy: 'reject'` (default) serves only
 * 2026-07-28; `'stateless'` also answers 2025-era clients.
 */
export async function startModernServer(
  catalog: ServerCatalog = fullCatalog,
  options: HttpServerOptions & { readonly legacy?: 'reject' | 'stateless' } = {},
): Promise<ChangingServer> {
  const live = new LiveCatalog(catalog);
  const bus = new InMemoryServerEventBus();
  const handler = createMcpHandler(() => modernServer(live.current, options), {
    legacy: options.legacy ?? 'reject',
    bus,
  });
  const serve = toNodeHandler(handler);
  const http = createServer(guarded(options, (req, res) => serve(req, res)));
  const url = await listen(http, '/mcp', options.port);
  const notify = { tools: 'toolsChanged', resources: 'resourcesChanged', prompts: 'promptsChanged' } as const;
  return {
    url,
    // Every open `subscriptions/listen` stream is one listener of the bus.
    listeners: () => bus.listenerCount,
    change: async (changes, lists) => {
      live.change(changes);
      for (const list of lists) handler.notify[notify[list]]();
    },
    close: async () => {
      await handler.close();
      await closeHttp(http);
    },
  };
}

/** Accepts TCP connections and never answers a byte. */
export async function startHangingServer(): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(tcp, '/mcp');
  return {
    url,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** Answers every request with the same canned reply: by default HTTP 200 and a body that is not JSON-RPC. */
export async function startGarbageServer(
  reply: { readonly status?: number; readonly contentType?: string; readonly body?: string } = {},
): Promise<RunningServer> {
  const {
    status = 200,
    contentType = 'application/json',
    body = '{"jsonrpc": "2.0", "result": <<garbage>>',
  } = reply;
  const http = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': contentType }).end(body));
  });
  const url = await listen(http, '/mcp');
  return { url, close: () => closeHttp(http) };
}

/** A URL on 127.0.0.1 where nothing listens (the port was free a moment ago). */
export async function closedPortUrl(): Promise<string> {
  const tcp = createTcpServer();
  const url = await listen(tcp, '/mcp');
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  return url;
}

/** What test/support/stdio-server.mjs does; see the top of that file. */
export type StdioServerMode = 'legacy' | 'modern' | 'hang' | 'not-json-rpc' | 'broken-json-rpc' | 'exit';

export interface StdioServerOptions {
  /** Served by the `legacy` and `modern` modes; `fullCatalog` by default. */
  readonly catalog?: ServerCatalog;
  /** Every process started from the command line appends its pid to this file. */
  readonly pidFile?: string;
}

/**
 * The command line of a STDIO server: this node binary running test/support/stdio-server.mjs with its
 * options as one JSON argument, every word single-quoted (as a shell would need it, and as the registry
 * splits it).
 */
export function stdioServerCommand(mode: StdioServerMode, options: StdioServerOptions = {}): string {
  const script = fileURLToPath(new URL('./stdio-server.mjs', import.meta.url));
  const config = { mode, catalog: options.catalog ?? fullCatalog, pidFile: options.pidFile };
  return [process.execPath, script, JSON.stringify(config)].map(singleQuoted).join(' ');
}

function singleQuoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * What every test server answers to `tools/call` for a tool of its catalog: a text block with the server's
 * name, the tool and the arguments as JSON (deterministic, and it tells which server answered).
 * `{ "fail": true }` makes the tool report an error (`isError`, the tool's own answer); `{ "hang": true }`
 * makes it never answer (until the server closes). An unknown tool is a JSON-RPC error.
 */
export function toolAnswer(
  catalog: ServerCatalog,
  name: string,
  args: Record<string, unknown> = {},
): { content: { type: 'text'; text: string }[]; isError?: boolean } | undefined | 'hang' {
  if (!catalog.tools?.some((tool) => tool.name === name)) return undefined;
  if (args.hang === true) return 'hang';
  if (args.fail === true)
    return { content: [{ type: 'text', text: `${name} failed as asked` }], isError: true };
  return {
    content: [{ type: 'text', text: JSON.stringify({ server: catalog.name, tool: name, arguments: args }) }],
  };
}

/** What every test server answers to `resources/read`: one text block naming the server and the URI. */
export function resourceAnswer(catalog: ServerCatalog, uri: string) {
  return { contents: [{ uri, mimeType: 'text/plain', text: `${catalog.name} read ${uri}` }] };
}

/** What every test server answers to `prompts/get` for a prompt of its catalog: one user message. */
export function promptAnswer(catalog: ServerCatalog, name: string, args: Record<string, string> = {}) {
  if (!catalog.prompts?.some((prompt) => prompt.name === name)) return undefined;
  const text = `${catalog.name} prompt ${name} ${JSON.stringify(args)}`;
  return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }] };
}

const never = () => new Promise<never>(() => {});

function capabilitiesOf(catalog: ServerCatalog): ServerCapabilities {
  const announced = new Set(catalog.listChanged ?? ['tools']);
  const capability = (list: ListName) => (announced.has(list) ? { listChanged: true } : {});
  return {
    ...(catalog.tools && { tools: capability('tools') }),
    ...((catalog.resources || catalog.resourceTemplates) && { resources: capability('resources') }),
    ...(catalog.prompts && { prompts: capability('prompts') }),
  };
}

/** Cursors are the offset of the next page, as a string. */
function page<T>(items: readonly T[], cursor: string | undefined, pageSize: number | undefined) {
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0 || start > items.length) return undefined;
  const end = pageSize === undefined ? items.length : start + pageSize;
  return { items: items.slice(start, end), nextCursor: end < items.length ? String(end) : undefined };
}

function legacyServer(live: LiveCatalog, options: HttpServerOptions = {}): LegacySdkServer {
  const catalog = live.current;
  const server = new LegacySdkServer(
    { name: catalog.name, version: catalog.version },
    { capabilities: capabilitiesOf(catalog), instructions: catalog.instructions },
  );
  // The lists served are those of the catalog now; their items are read when asked (they may change).
  const paged = <T>(items: readonly T[] | undefined, cursor: string | undefined) => {
    const result = page(items ?? [], cursor, live.current.pageSize);
    if (!result) throw new McpError(ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
    return result;
  };
  if (catalog.tools) {
    server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const { items, nextCursor } = paged(live.current.tools, request.params?.cursor);
      return { tools: items, nextCursor };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      options.onToolCall?.(request.params);
      const answer = toolAnswer(catalog, request.params.name, request.params.arguments);
      if (answer === undefined)
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
      // `{ "progress": n }` reports n steps of progress first, to a client that asked for them.
      const steps = Number(request.params.arguments?.progress ?? 0);
      const progressToken = request.params._meta?.progressToken;
      for (let step = 1; progressToken !== undefined && step <= steps; step += 1) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress: step, total: steps },
        });
      }
      return answer === 'hang' ? never() : answer;
    });
  }
  if (catalog.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (request) => {
      const { items, nextCursor } = paged(live.current.resources, request.params?.cursor);
      return { resources: items, nextCursor };
    });
  }
  if (catalog.resources || catalog.resourceTemplates) {
    server.setRequestHandler(ReadResourceRequestSchema, (request) =>
      resourceAnswer(catalog, request.params.uri),
    );
  }
  if (catalog.prompts) {
    server.setRequestHandler(GetPromptRequestSchema, (request) => {
      const answer = promptAnswer(catalog, request.params.name, request.params.arguments);
      if (answer === undefined)
        throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
      return answer;
    });
  }
  if (catalog.resourceTemplates) {
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (request) => {
      const { items, nextCursor } = paged(live.current.resourceTemplates, request.params?.cursor);
      return { resourceTemplates: items, nextCursor };
    });
  }
  if (catalog.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (request) => {
      const { items, nextCursor } = paged(live.current.prompts, request.params?.cursor);
      return { prompts: items, nextCursor };
    });
  }
  return server;
}

function modernServer(catalog: ServerCatalog, options: HttpServerOptions = {}): ModernSdkServer {
  const server = new ModernSdkServer(
    { name: catalog.name, version: catalog.version },
    { capabilities: capabilitiesOf(catalog), instructions: catalog.instructions },
  );
  const paged = <T>(items: readonly T[], cursor: string | undefined) => {
    const result = page(items, cursor, catalog.pageSize);
    if (!result) throw new ProtocolError(-32602, `Invalid cursor: ${cursor}`);
    return result;
  };
  const { tools, resources, resourceTemplates, prompts } = catalog;
  if (tools) {
    server.setRequestHandler('tools/list', (request) => {
      const { items, nextCursor } = paged(tools, request.params?.cursor);
      return { tools: items, nextCursor };
    });
    server.setRequestHandler('tools/call', (request) => {
      options.onToolCall?.(request.params);
      const answer = toolAnswer(catalog, request.params.name, request.params.arguments);
      if (answer === undefined) throw new ProtocolError(-32602, `Unknown tool: ${request.params.name}`);
      return answer === 'hang' ? never() : answer;
    });
  }
  if (resources) {
    server.setRequestHandler('resources/list', (request) => {
      const { items, nextCursor } = paged(resources, request.params?.cursor);
      return { resources: items, nextCursor };
    });
  }
  if (resourceTemplates) {
    server.setRequestHandler('resources/templates/list', (request) => {
      const { items, nextCursor } = paged(resourceTemplates, request.params?.cursor);
      return { resourceTemplates: items, nextCursor };
    });
  }
  if (resources || resourceTemplates) {
    server.setRequestHandler('resources/read', (request) => resourceAnswer(catalog, request.params.uri));
  }
  if (prompts) {
    server.setRequestHandler('prompts/get', (request) => {
      const answer = promptAnswer(catalog, request.params.name, request.params.arguments);
      if (answer === undefined) throw new ProtocolError(-32602, `Unknown prompt: ${request.params.name}`);
      return answer;
    });
  }
  if (prompts) {
    server.setRequestHandler('prompts/list', (request) => {
      const { items, nextCursor } = paged(prompts, request.params?.cursor);
      return { prompts: items, nextCursor };
    });
  }
  return server;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Checks the bearer token (when one is required) before the MCP handler sees the request. */
function guarded(options: HttpServerOptions, handle: NodeHandler) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    options.onRequest?.(req.headers.authorization, req.headers);
    const expected = options.bearerToken;
    if (expected !== undefined && req.headers.authorization !== `Bearer ${expected}`) {
      const status = req.headers.authorization === undefined ? 401 : 403;
      res
        .writeHead(status, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="mcp"' })
        .end(JSON.stringify({ error: status === 401 ? 'unauthorized' : 'forbidden' }));
      return;
    }
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  };
}

async function listen(server: HttpServer | TcpServer, path: string, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return `http://127.0.0.1:${address.port}${path}`;
}

/** Stops listening and drops open connections (SSE streams included), so nothing outlives the test. */
async function closeHttp(server: HttpServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * For a test file: returns `started`, which awaits a server being started and closes it after all the file's
 * tests (`const started = closedAfterAll(); const server = await started(startSseServer())`).
 */
export function closedAfterAll(): <T extends RunningServer>(server: Promise<T>) => Promise<T> {
  const running: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(running.map((server) => server.close().catch(() => {})));
  });
  return async (server) => {
    const value = await server;
    running.push(value);
    return value;
  };
}
