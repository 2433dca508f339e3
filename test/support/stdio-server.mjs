// A STDIO MCP server (or a broken imitation) for the tests, started as
//   node stdio-server.mjs '{"mode": "legacy", "catalog": {...}, "pidFile": "/tmp/..."}'
// Plain JavaScript: it is spawned for every probe, and must start as fast as node does.
//   legacy           2025-11-25, SDK v1 low-level Server over StdioServerTransport
//   modern           2026-07-28 only, SDK v2 serveStdio (`initialize` is rejected)
//   hang             never answers, ignores SIGTERM and its closed stdin
//   not-json-rpc     answers every line with JSON that is not JSON-RPC
//   broken-json-rpc  answers every request with a result that fits no MCP schema
//   exit             writes a reason on stderr and exits with status 3
// With `pidFile`, every process appends its pid there (the client may spawn more than one).
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const { mode, catalog, pidFile } = JSON.parse(process.argv[2] ?? '{}');
if (pidFile) appendFileSync(pidFile, `${process.pid}\n`);

/** The lists a catalog may serve: its key, the list method, and the v1 request schema's name. */
const LISTS = [
  ['tools', 'tools/list', 'ListToolsRequestSchema'],
  ['resources', 'resources/list', 'ListResourcesRequestSchema'],
  ['resourceTemplates', 'resources/templates/list', 'ListResourceTemplatesRequestSchema'],
  ['prompts', 'prompts/list', 'ListPromptsRequestSchema'],
];

/** As in mcp-servers.ts: undefined lists are not served, cursors are the offset of the next page. */
function capabilitiesOf() {
  return {
    ...(catalog.tools && { tools: { listChanged: true } }),
    ...((catalog.resources || catalog.resourceTemplates) && { resources: {} }),
    ...(catalog.prompts && { prompts: {} }),
  };
}

function servePages(setHandler, invalidCursor) {
  for (const [key, method, schemaName] of LISTS) {
    const items = catalog[key];
    if (!items) continue;
    setHandler(method, schemaName, (request) => {
      const cursor = request.params?.cursor;
      const start = cursor === undefined ? 0 : Number(cursor);
      if (!Number.isInteger(start) || start < 0 || start > items.length) throw invalidCursor(cursor);
      const end = catalog.pageSize === undefined ? items.length : start + catalog.pageSize;
      return { [key]: items.slice(start, end), nextCursor: end < items.length ? String(end) : undefined };
    });
  }
}

const identity = () => [
  { name: catalog.name, version: catalog.version },
  { capabilities: capabilitiesOf(), instructions: catalog.instructions },
];

function onEveryLine(answer) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const reply = answer(line);
    if (reply !== undefined) process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
}

switch (mode) {
  case 'legacy': {
    const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
    const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
    const types = await import('@modelcontextprotocol/sdk/types.js');
    const server = new Server(...identity());
    servePages(
      (_method, schemaName, handler) => server.setRequestHandler(types[schemaName], handler),
      (cursor) => new types.McpError(types.ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`),
    );
    await server.connect(new StdioServerTransport());
    break;
  }
  case 'modern': {
    const { ProtocolError, Server } = await import('@modelcontextprotocol/server');
    const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
    serveStdio(
      () => {
        const server = new Server(...identity());
        servePages(
          (method, _schemaName, handler) => server.setRequestHandler(method, handler),
          (cursor) => new ProtocolError(-32602, `Invalid cursor: ${cursor}`),
        );
        return server;
      },
      { legacy: 'reject' },
    );
    break;
  }
  case 'hang':
    process.on('SIGTERM', () => {});
    setInterval(() => {}, 60_000);
    break;
  case 'not-json-rpc':
    onEveryLine(() => ({ hello: 'world' }));
    break;
  case 'broken-json-rpc':
    onEveryLine((line) => {
      const { id } = JSON.parse(line);
      return id === undefined ? undefined : { jsonrpc: '2.0', id, result: { protocolVersion: 42 } };
    });
    break;
  case 'exit':
    process.stderr.write('fatal: MCP_FILES_ROOT is not set\n');
    process.exit(3);
    break;
  default:
    throw new Error(`unknown mode: ${mode}`);
}
