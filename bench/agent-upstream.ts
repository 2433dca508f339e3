import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

// The upstream MCP server of the agents scenario, run as a child process of the bench (its CPU is not the
// gateway's): 2025-11-25 Streamable HTTP with sessions (SDK v1), as most deployed servers are. It offers
// `echo` and `tool_0001` ... so that a virtual server over it lists TOOLS tools. Prints its URL, then serves.

const TOOLS = Number(process.env.AGENT_UPSTREAM_TOOLS ?? 1000);

const tools = [
  {
    name: 'echo',
    description: 'Answers with its arguments.',
    inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } },
  },
  ...Array.from({ length: TOOLS - 1 }, (_, index) => ({
    name: `tool_${String(index + 1).padStart(4, '0')}`,
    description: `Bench tool ${index + 1}: does one thing of a thousand.`,
    inputSchema: {
      type: 'object' as const,
      properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 100 } },
      required: ['query'],
    },
  })),
];

function mcpServer(): Server {
  const server = new Server({ name: 'bench-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (request) => ({
    content: [{ type: 'text', text: JSON.stringify(request.params.arguments ?? {}) }],
  }));
  return server;
}

const sessions = new Map<string, StreamableHTTPServerTransport>();
const http = createServer((req, res) => {
  const sessionId = req.headers['mcp-session-id'];
  const known = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
  if (known) {
    void known.handleRequest(req, res);
    return;
  }
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => {
      sessions.set(id, transport);
    },
    onsessionclosed: (id) => {
      sessions.delete(id);
    },
  });
  void mcpServer()
    .connect(transport)
    .then(() => transport.handleRequest(req, res));
});
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  process.stdout.write(`http://127.0.0.1:${port}/mcp\n`);
});
process.on('SIGTERM', () => {
  http.closeAllConnections();
  http.close(() => process.exit(0));
});
