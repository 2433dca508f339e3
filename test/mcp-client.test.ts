import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as V1StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandLineError, parseCommandLine } from '../src/mcp/command-line.js';
import {
  type Inspection,
  inspectServer,
  McpInspectionError,
  type McpTarget,
  probeServer,
} from '../src/mcp/mcp-client.js';
import {
  closedPortUrl,
  fullCatalog,
  type RunningServer,
  startGarbageServer,
  startHangingServer,
  startModernServer,
  startSseServer,
  startStreamableHttpServer,
  stdioServerCommand,
} from './support/mcp-servers.js';

const TIMEOUT_MS = 500;
const OPTIONS = { timeoutMs: 5_000 };
const TOKEN = 'registry-secret';

/** What the official SDK clients list, in the shape the registry stores. */
interface Listed {
  readonly protocolVersion: string | undefined;
  readonly serverInfo: unknown;
  readonly capabilities: unknown;
  readonly instructions: string | undefined;
  readonly lists: ReturnType<typeof stored>;
}

const servers: RunningServer[] = [];
async function started<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const running = await server;
  servers.push(running);
  return running;
}

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe('inspectServer reads exactly what the server lists', () => {
  let streamable: Awaited<ReturnType<typeof startStreamableHttpServer>>;
  let sse: RunningServer;
  let modern: RunningServer;
  let dualEra: RunningServer;

  beforeAll(async () => {
    [streamable, sse, modern, dualEra] = await Promise.all([
      started(startStreamableHttpServer()),
      started(startSseServer()),
      started(startModernServer()),
      started(startModernServer(fullCatalog, { legacy: 'stateless' })),
    ]);
  });

  it('2025-11-25 over Streamable HTTP, as the v1 SDK client lists it (all pages)', async () => {
    const target = httpTarget(streamable.url);
    const inspection = await inspectServer(target, OPTIONS);

    const listed = await listWithV1Sdk(target);
    expect(inspection).toEqual(expectedInspection(listed));
    expect(inspection.protocolVersion).toBe('2025-11-25');
    expectFullCatalog(inspection);
  });

  it('2025-11-25 over legacy HTTP+SSE, as the v1 SDK client lists it', async () => {
    const target: McpTarget = { endpointUrl: sse.url, transport: 'sse', headers: null };
    const inspection = await inspectServer(target, OPTIONS);

    const listed = await listWithV1Sdk(target);
    expect(inspection).toEqual(expectedInspection(listed));
    expect(inspection.protocolVersion).toBe('2025-11-25');
    expectFullCatalog(inspection);
  });

  it('2026-07-28 (stateless, 2025 rejected), as the v2 SDK client lists it', async () => {
    const target = httpTarget(modern.url);
    const inspection = await inspectServer(target, OPTIONS);

    const listed = await listWithV2Sdk(target);
    expect(inspection).toEqual(expectedInspection(listed));
    expect(inspection.protocolVersion).toBe('2026-07-28');
    expectFullCatalog(inspection);
  });

  it('prefers 2026-07-28 on a server that also speaks 2025', async () => {
    const inspection = await inspectServer(httpTarget(dualEra.url), OPTIONS);

    expect(inspection.protocolVersion).toBe('2026-07-28');
    expectFullCatalog(inspection);
  });

  it('ends the Streamable HTTP session with a DELETE after inspecting and after probing', async () => {
    const before = streamable.terminatedSessions();

    await inspectServer(httpTarget(streamable.url), OPTIONS);
    await probeServer(httpTarget(streamable.url), OPTIONS);

    expect(streamable.terminatedSessions()).toBe(before + 2);
  });
});

describe('inspectServer lists only what the server announces', () => {
  it('has no resources or prompts for a tools-only server, and no templates when that list is missing', async () => {
    const toolsOnly = await started(
      startStreamableHttpServer({ name: 'tools-only', version: '0.1.0', tools: fullCatalog.tools }),
    );
    const noTemplates = await started(
      startModernServer({ name: 'no-templates', version: '2.0.0', resources: fullCatalog.resources }),
    );

    const tools = await inspectServer(httpTarget(toolsOnly.url), OPTIONS);
    const resources = await inspectServer(httpTarget(noTemplates.url), OPTIONS);

    expect(tools).toMatchObject({
      capabilities: { tools: { listChanged: true } },
      serverInfo: { name: 'tools-only', version: '0.1.0' },
      instructions: null,
      resources: [],
      resourceTemplates: [],
      prompts: [],
    });
    expect(tools.capabilities).not.toHaveProperty('resources');
    expect(tools.tools).toHaveLength(fullCatalog.tools?.length ?? -1);
    expect(resources).toMatchObject({ capabilities: { resources: {} }, tools: [], resourceTemplates: [] });
    expect(resources.resources.map((resource) => resource.uri)).toEqual(
      fullCatalog.resources?.map((resource) => resource.uri),
    );
  });
});

describe('probeServer', () => {
  it('answers OK with the negotiated protocol version for each era and transport', async () => {
    const [streamable, sse, modern] = await Promise.all([
      started(startStreamableHttpServer()),
      started(startSseServer()),
      started(startModernServer()),
    ]);

    const results = await Promise.all([
      probeServer(httpTarget(streamable.url), OPTIONS),
      probeServer({ endpointUrl: sse.url, transport: 'sse', headers: null }, OPTIONS),
      probeServer(httpTarget(modern.url), OPTIONS),
    ]);

    expect(results).toEqual([
      { outcome: 'ok', latencyMs: expect.any(Number), protocolVersion: '2025-11-25' },
      { outcome: 'ok', latencyMs: expect.any(Number), protocolVersion: '2025-11-25' },
      { outcome: 'ok', latencyMs: expect.any(Number), protocolVersion: '2026-07-28' },
    ]);
  });
});

describe('servers that need a bearer token', () => {
  let streamable: Awaited<ReturnType<typeof startStreamableHttpServer>>;
  let sse: RunningServer;
  let modern: RunningServer;

  beforeAll(async () => {
    [streamable, sse, modern] = await Promise.all([
      started(startStreamableHttpServer(fullCatalog, { bearerToken: TOKEN })),
      started(startSseServer(fullCatalog, { bearerToken: TOKEN })),
      started(startModernServer(fullCatalog, { bearerToken: TOKEN })),
    ]);
  });

  const cases = () =>
    [
      ['Streamable HTTP 2025', httpTarget(streamable.url), '2025-11-25'],
      ['SSE', { endpointUrl: sse.url, transport: 'sse', headers: null }, '2025-11-25'],
      ['Streamable HTTP 2026', httpTarget(modern.url), '2026-07-28'],
    ] as const;

  it('are inspected and probed with the stored headers, on every request', async () => {
    for (const [name, target, version] of cases()) {
      const withToken = { ...target, headers: { Authorization: `Bearer ${TOKEN}` } };

      const inspection = await inspectServer(withToken, OPTIONS);
      const probe = await probeServer(withToken, OPTIONS);

      expect(inspection.protocolVersion, name).toBe(version);
      expectFullCatalog(inspection);
      expect(probe, name).toMatchObject({ outcome: 'ok', protocolVersion: version });
    }
    // The DELETE carried the token too, or the server would have refused to end the sessions.
    expect(streamable.terminatedSessions()).toBe(2);
  });

  it('are AUTH_FAILED without the token (401) and with a wrong one (403)', async () => {
    for (const [name, target] of cases()) {
      const wrongToken = { ...target, headers: { Authorization: 'Bearer wrong' } };

      const missing = await probeServer(target, OPTIONS);
      const wrong = await probeServer(wrongToken, OPTIONS);
      const inspection = await inspectServer(target, OPTIONS).catch((error: unknown) => error);

      expect(missing, name).toEqual({
        outcome: 'auth_failed',
        latencyMs: expect.any(Number),
        protocolVersion: null,
        error: 'authentication failed (HTTP 401)',
      });
      expect(wrong, name).toMatchObject({
        outcome: 'auth_failed',
        error: 'authentication failed (HTTP 403)',
      });
      expect(inspection, name).toBeInstanceOf(McpInspectionError);
      expect(inspection, name).toMatchObject({
        outcome: 'auth_failed',
        message: 'authentication failed (HTTP 401)',
      });
    }
  });
});

describe('failures are classified, never thrown raw', () => {
  let hanging: RunningServer;
  let garbage: RunningServer;
  let notJsonRpc: RunningServer;
  let html: RunningServer;
  let unavailable: RunningServer;
  let closedUrl: string;

  beforeAll(async () => {
    [hanging, garbage, notJsonRpc, html, unavailable, closedUrl] = await Promise.all([
      started(startHangingServer()),
      started(startGarbageServer()),
      started(startGarbageServer({ body: '{"hello": "world"}' })),
      started(startGarbageServer({ contentType: 'text/html', body: '<html>It works!</html>' })),
      started(startGarbageServer({ status: 503, contentType: 'text/plain', body: 'upstream down' })),
      closedPortUrl(),
    ]);
  });

  /** Probes and inspects the target within TIMEOUT_MS; both must agree on the outcome. */
  async function failures(target: McpTarget) {
    const probe = await probeServer(target, { timeoutMs: TIMEOUT_MS });
    const inspection = await inspectServer(target, { timeoutMs: TIMEOUT_MS }).catch(
      (error: unknown) => error,
    );
    expect(inspection, target.endpointUrl).toBeInstanceOf(McpInspectionError);
    expect(inspection, target.endpointUrl).toMatchObject({ outcome: probe.outcome, message: probe.error });
    expect(probe.protocolVersion).toBeNull();
    return probe;
  }

  it('a server that accepts the connection and never answers is a TIMEOUT', async () => {
    for (const transport of ['streamable_http', 'sse'] as const) {
      const probe = await failures({ endpointUrl: hanging.url, transport, headers: null });

      expect(probe, transport).toMatchObject({
        outcome: 'timeout',
        error: `no answer within ${TIMEOUT_MS} ms`,
      });
    }
  });

  it('broken JSON-RPC, JSON that is not JSON-RPC and a web page are PROTOCOL_ERRORs', async () => {
    const targets: McpTarget[] = [
      httpTarget(garbage.url),
      httpTarget(notJsonRpc.url),
      httpTarget(html.url),
      { endpointUrl: garbage.url, transport: 'sse', headers: null },
    ];
    for (const target of targets) {
      const probe = await failures(target);

      expect(probe.outcome, target.endpointUrl).toBe('protocol_error');
      // One bounded line, even when the SDK's message embeds a whole validation report.
      expect(probe.error).toMatch(/^protocol error: [^\n]{10,310}$/);
    }
  });

  it('a closed port and a 503 from a gateway are UNREACHABLE', async () => {
    const refused = [httpTarget(closedUrl), { ...httpTarget(closedUrl), transport: 'sse' as const }];
    for (const target of refused) {
      expect(await failures(target), target.transport).toMatchObject({
        outcome: 'unreachable',
        error: `unreachable: connect ECONNREFUSED ${new URL(closedUrl).host}`,
      });
    }
    expect(await failures(httpTarget(unavailable.url))).toMatchObject({
      outcome: 'unreachable',
      error: 'unreachable: the endpoint answered HTTP 503',
    });
  });
});

describe('command lines of STDIO servers', () => {
  it.each([
    ['npx -y @acme/files', ['npx', '-y', '@acme/files']],
    ['  node   server.js\t--port 3 ', ['node', 'server.js', '--port', '3']],
    [`python -c 'print("hi there")'`, ['python', '-c', 'print("hi there")']],
    [`run "a \\"b\\" \\\\ \\n" c`, ['run', 'a "b" \\ \\n', 'c']],
    [`echo 'it'\\''s' a\\ b \\'x`, ['echo', "it's", 'a b', "'x"]],
    [`cmd '' "" x''y`, ['cmd', '', '', 'xy']],
    [
      'tool $HOME *.txt; rm -rf / | cat > out',
      ['tool', '$HOME', '*.txt;', 'rm', '-rf', '/', '|', 'cat', '>', 'out'],
    ],
  ])('%s', (line, words) => {
    expect(parseCommandLine(line)).toEqual(words);
  });

  it.each([
    [`node 'server.js`, 'unterminated single quote'],
    ['node "server.js', 'unterminated double quote'],
    ['node server.js \\', 'lone backslash'],
    ['   ', 'names no program'],
    ["'' --flag", 'names no program'],
  ])('refuses %j', (line, problem) => {
    expect(() => parseCommandLine(line)).toThrow(CommandLineError);
    expect(() => parseCommandLine(line)).toThrow(problem);
  });
});

describe('STDIO servers', () => {
  let pidDir: string;
  let pidFiles = 0;
  const pidFile = () => path.join(pidDir, `pids-${++pidFiles}`);
  /** Every process started from the command line is gone: exited and reaped. */
  async function expectAllGone(file: string, atLeast = 1): Promise<void> {
    const pids = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(atLeast);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  }

  beforeAll(async () => {
    pidDir = await mkdtemp(path.join(tmpdir(), 'stdio-pids-'));
  });

  afterAll(async () => {
    await rm(pidDir, { recursive: true, force: true });
  });

  it('2025-11-25: inspected from its command line, as the v1 SDK client lists it', async () => {
    const target = stdioTarget(stdioServerCommand('legacy'));
    const inspection = await inspectServer(target, OPTIONS);

    const listed = await listWithV1Sdk(target);
    expect(inspection).toEqual(expectedInspection(listed));
    expect(inspection.protocolVersion).toBe('2025-11-25');
    expectFullCatalog(inspection);
  });

  it('2026-07-28 (2025 rejected): inspected as the v2 SDK client lists it', async () => {
    const target = stdioTarget(stdioServerCommand('modern'));
    const inspection = await inspectServer(target, OPTIONS);

    const listed = await listWithV2Sdk(target);
    expect(inspection).toEqual(expectedInspection(listed));
    expect(inspection.protocolVersion).toBe('2026-07-28');
    expectFullCatalog(inspection);
  });

  it('probes OK in both eras, and leaves no process behind', async () => {
    const files = [pidFile(), pidFile()];
    const results = await Promise.all([
      probeServer(stdioTarget(stdioServerCommand('legacy', { pidFile: files[0] })), OPTIONS),
      probeServer(stdioTarget(stdioServerCommand('modern', { pidFile: files[1] })), OPTIONS),
    ]);

    expect(results).toEqual([
      { outcome: 'ok', latencyMs: expect.any(Number), protocolVersion: '2025-11-25' },
      { outcome: 'ok', latencyMs: expect.any(Number), protocolVersion: '2026-07-28' },
    ]);
    for (const file of files) await expectAllGone(file);
  });

  /** Probes and inspects the command within `timeoutMs`; both must agree on the outcome. */
  async function failures(commandLine: string, timeoutMs = 2_000) {
    const target = stdioTarget(commandLine);
    const probe = await probeServer(target, { timeoutMs });
    const inspection = await inspectServer(target, { timeoutMs }).catch((error: unknown) => error);
    expect(inspection, commandLine).toBeInstanceOf(McpInspectionError);
    expect(inspection, commandLine).toMatchObject({ outcome: probe.outcome, message: probe.error });
    expect(probe.protocolVersion).toBeNull();
    return probe;
  }

  it('a command that does not exist, cannot be split, or exits before answering is UNREACHABLE', async () => {
    const missing = await failures('/nonexistent/mcp-files --root /srv');
    const unsplittable = await failures(`node 'server.js`);
    const file = pidFile();
    const exits = await failures(stdioServerCommand('exit', { pidFile: file }));

    expect(missing).toMatchObject({
      outcome: 'unreachable',
      error: 'could not start: ENOENT (command not found): /nonexistent/mcp-files',
    });
    expect(unsplittable).toMatchObject({
      outcome: 'unreachable',
      error: 'could not start: the command line has an unterminated single quote',
    });
    expect(exits).toMatchObject({
      outcome: 'unreachable',
      error: 'the command exited before answering: fatal: MCP_FILES_ROOT is not set',
    });
    await expectAllGone(file);
  });

  it('JSON that is not JSON-RPC, and answers that fit no MCP schema, are PROTOCOL_ERRORs', async () => {
    const files = [pidFile(), pidFile()];
    const notJsonRpc = await failures(stdioServerCommand('not-json-rpc', { pidFile: files[0] }), 1_000);
    const broken = await failures(stdioServerCommand('broken-json-rpc', { pidFile: files[1] }));

    expect(notJsonRpc).toMatchObject({
      outcome: 'protocol_error',
      error: 'protocol error: the command wrote something on stdout that is not a JSON-RPC message',
    });
    expect(broken.outcome).toBe('protocol_error');
    expect(broken.error).toMatch(/^protocol error: [^\n]{10,310}$/);
    for (const file of files) await expectAllGone(file);
  });

  it('a command that never answers is a TIMEOUT, and is killed even when it ignores SIGTERM', async () => {
    const file = pidFile();
    const startedAt = performance.now();
    const probe = await failures(stdioServerCommand('hang', { pidFile: file }));

    expect(probe).toMatchObject({ outcome: 'timeout', error: 'no answer within 2000 ms' });
    // Probe and inspection: the deadline each, then SIGTERM's grace, then SIGKILL.
    expect(performance.now() - startedAt).toBeLessThan(2 * (2_000 + 1_500));
    await expectAllGone(file, 2);
  });
});

function httpTarget(endpointUrl: string): McpTarget {
  return { endpointUrl, transport: 'streamable_http', headers: null };
}

function stdioTarget(commandLine: string): McpTarget {
  return { endpointUrl: commandLine, transport: 'stdio', headers: null };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The whole catalog came through: every page of every list, in order, every stored field. */
function expectFullCatalog(inspection: Inspection): void {
  const { serverInfo, instructions, tools, resources, resourceTemplates, prompts } = inspection;
  expect({ serverInfo, instructions, tools, resources, resourceTemplates, prompts }).toEqual({
    serverInfo: { name: fullCatalog.name, version: fullCatalog.version },
    instructions: fullCatalog.instructions,
    ...stored({
      tools: fullCatalog.tools ?? [],
      resources: fullCatalog.resources ?? [],
      resourceTemplates: fullCatalog.resourceTemplates ?? [],
      prompts: fullCatalog.prompts ?? [],
    }),
  });
}

function expectedInspection(listed: Listed) {
  return {
    protocolVersion: listed.protocolVersion,
    capabilities: listed.capabilities,
    serverInfo: listed.serverInfo,
    instructions: listed.instructions ?? null,
    ...listed.lists,
    latencyMs: expect.any(Number),
  };
}

interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** Follows `nextCursor` by hand, as a client without auto-paging does. */
async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return items;
}

/** The v1 SSE transport keeps the negotiated version private; the client hands it over after initialize. */
class RecordingSSEClientTransport extends V1SSEClientTransport {
  protocolVersion: string | undefined;

  override setProtocolVersion(version: string): void {
    this.protocolVersion = version;
    super.setProtocolVersion(version);
  }
}

/** The v1 client hands the negotiated version to a transport that takes it; the stdio one does not. */
class RecordingStdioClientTransport extends V1StdioClientTransport {
  protocolVersion: string | undefined;

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }
}

/** The oracles spawn the command as the registry splits it. */
function stdioParameters(target: McpTarget) {
  const [command, ...args] = parseCommandLine(target.endpointUrl);
  return { command, args };
}

/** The 2025-era oracle: the v1 SDK client, paging by hand, over the target's transport. */
async function listWithV1Sdk(target: McpTarget): Promise<Listed> {
  const client = new V1Client({ name: 'oracle', version: '1.0.0' });
  const transport =
    target.transport === 'stdio'
      ? new RecordingStdioClientTransport(stdioParameters(target))
      : target.transport === 'sse'
        ? new RecordingSSEClientTransport(new URL(target.endpointUrl))
        : new V1StreamableHTTPClientTransport(new URL(target.endpointUrl));
  await client.connect(transport);
  try {
    const [tools, resources, resourceTemplates, prompts] = await Promise.all([
      allPages(async (cursor) => {
        const page = await client.listTools({ cursor });
        return { items: page.tools, nextCursor: page.nextCursor };
      }),
      allPages(async (cursor) => {
        const page = await client.listResources({ cursor });
        return { items: page.resources, nextCursor: page.nextCursor };
      }),
      allPages(async (cursor) => {
        const page = await client.listResourceTemplates({ cursor });
        return { items: page.resourceTemplates, nextCursor: page.nextCursor };
      }),
      allPages(async (cursor) => {
        const page = await client.listPrompts({ cursor });
        return { items: page.prompts, nextCursor: page.nextCursor };
      }),
    ]);
    return {
      protocolVersion: transport.protocolVersion,
      serverInfo: client.getServerVersion(),
      capabilities: client.getServerCapabilities(),
      instructions: client.getInstructions(),
      lists: stored({ tools, resources, resourceTemplates, prompts }),
    };
  } finally {
    if (transport instanceof V1StreamableHTTPClientTransport) await transport.terminateSession();
    await client.close();
  }
}

/** The 2026-era oracle: the v2 SDK client's own list calls (the v1 client cannot speak 2026-07-28). */
async function listWithV2Sdk(target: McpTarget): Promise<Listed> {
  const client = new Client({ name: 'oracle', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    target.transport === 'stdio'
      ? new StdioClientTransport(stdioParameters(target))
      : new StreamableHTTPClientTransport(new URL(target.endpointUrl)),
  );
  try {
    const [{ tools }, { resources }, { resourceTemplates }, { prompts }] = await Promise.all([
      client.listTools(),
      client.listResources(),
      client.listResourceTemplates(),
      client.listPrompts(),
    ]);
    return {
      protocolVersion: client.getNegotiatedProtocolVersion(),
      serverInfo: client.getServerVersion(),
      capabilities: client.getServerCapabilities(),
      instructions: client.getInstructions(),
      lists: stored({ tools, resources, resourceTemplates, prompts }),
    };
  } finally {
    await client.close();
  }
}

/** The listed fields the registry keeps, as both SDK generations type them. */
interface ListedItems {
  readonly tools: {
    name: string;
    title?: string;
    description?: string;
    inputSchema: object;
    outputSchema?: object;
    annotations?: object;
  }[];
  readonly resources: { uri: string; name: string; mimeType?: string; description?: string }[];
  readonly resourceTemplates: {
    uriTemplate: string;
    name: string;
    mimeType?: string;
    description?: string;
  }[];
  readonly prompts: {
    name: string;
    description?: string;
    arguments?: { name: string; description?: string; required?: boolean }[];
  }[];
}

/** What the registry keeps of each listed item: the fields it stores, absent ones as null. */
function stored(lists: ListedItems) {
  return {
    tools: lists.tools.map((tool) => ({
      name: tool.name,
      title: tool.title ?? null,
      description: tool.description ?? null,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema ?? null,
      annotations: tool.annotations ?? null,
    })),
    resources: lists.resources.map((resource) => ({
      uri: resource.uri,
      name: resource.name,
      mimeType: resource.mimeType ?? null,
      description: resource.description ?? null,
    })),
    resourceTemplates: lists.resourceTemplates.map((template) => ({
      uriTemplate: template.uriTemplate,
      name: template.name,
      mimeType: template.mimeType ?? null,
      description: template.description ?? null,
    })),
    prompts: lists.prompts.map((prompt) => ({
      name: prompt.name,
      description: prompt.description ?? null,
      arguments: (prompt.arguments ?? []).map((argument) => ({
        name: argument.name,
        description: argument.description ?? null,
        required: argument.required ?? false,
      })),
    })),
  };
}
