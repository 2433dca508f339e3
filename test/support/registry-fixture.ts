import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const OFFICIAL = 'io.modelcontextprotocol.registry/official';

/** A ServerResponse as the official OpenAPI document's examples give it (docs/reference/api/openapi.yaml). */
export interface FixtureEntry {
  server: Record<string, unknown>;
  _meta: Record<string, Record<string, unknown>>;
}

/**
 * An entry shaped like the OpenAPI document's examples: reverse-DNS name, repository, version, a
 * streamable-http remote (override `remotes` or `packages` for other shapes), official `_meta`.
 */
export function fixtureEntry(
  name: string,
  changes: {
    readonly server?: Record<string, unknown>;
    readonly status?: 'active' | 'deprecated' | 'deleted';
    readonly statusMessage?: string;
    readonly updatedAt?: string;
  } = {},
): FixtureEntry {
  const part = name.slice(name.indexOf('/') + 1);
  return {
    server: {
      $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
      name,
      description: `MCP server providing ${part} data`,
      title: part,
      repository: { url: `https://github.com/example/${part}`, source: 'github' },
      version: '1.0.2',
      remotes: [{ type: 'streamable-http', url: `https://${part}.example.com/mcp` }],
      ...changes.server,
    },
    _meta: {
      [OFFICIAL]: {
        status: changes.status ?? 'active',
        ...(changes.statusMessage === undefined ? {} : { statusMessage: changes.statusMessage }),
        publishedAt: '2025-09-01T10:30:00Z',
        updatedAt: changes.updatedAt ?? '2025-09-01T11:00:00Z',
        isLatest: true,
      },
    },
  };
}

export interface FixtureRegistry {
  /** The registry's base URL: `/v0.1/servers` below it. */
  readonly url: string;
  /** Answers bad JSON at `/v0.1/servers`. */
  readonly badJsonUrl: string;
  /** Answers the first page, then never answers the second. */
  readonly slowUrl: string;
  /** The query of every `/v0.1/servers` request, in order. */
  readonly requests: URLSearchParams[];
  /** The headers of the last request. */
  lastHeaders(): IncomingMessage['headers'];
  /** The entries served from now on (in this order: the listing's order by updatedAt). */
  setEntries(entries: FixtureEntry[]): void;
  close(): Promise<void>;
}

/**
 * A registry serving `GET /v0.1/servers` as the OpenAPI document describes it: pages of `limit` (here at most
 * `pageSize`, to make several pages), `metadata.nextCursor` as an opaque string, `search` (substring of the
 * name), `updated_since` (strictly after; deleted entries included, as the document says), `include_deleted`.
 */
export async function startFixtureRegistry(pageSize = 2): Promise<FixtureRegistry> {
  let entries: FixtureEntry[] = [];
  const requests: URLSearchParams[] = [];
  let headers: IncomingMessage['headers'] = {};
  const sockets = new Set<Socket>();
  const list = (query: URLSearchParams) => {
    const since = query.get('updated_since');
    const includeDeleted = since !== null || query.get('include_deleted') === 'true';
    const search = query.get('search');
    const matching = entries.filter((entry) => {
      const meta = entry._meta[OFFICIAL] ?? {};
      if (!includeDeleted && meta.status === 'deleted') return false;
      if (since !== null && new Date(String(meta.updatedAt)) <= new Date(since)) return false;
      return search === null || String(entry.server.name).includes(search);
    });
    const start = Number(Buffer.from(query.get('cursor') ?? 'MA', 'base64url').toString('utf8')) || 0;
    const limit = Math.min(Number(query.get('limit') ?? 30), pageSize);
    const page = matching.slice(start, start + limit);
    const next =
      start + limit < matching.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
    return {
      servers: page,
      metadata: { ...(next === null ? {} : { nextCursor: next }), count: page.length },
    };
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const [mode, path] = url.pathname.startsWith('/v0.1/')
      ? ['good', url.pathname]
      : [url.pathname.split('/')[1], url.pathname.slice(url.pathname.indexOf('/', 1))];
    if (path !== '/v0.1/servers') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    requests.push(url.searchParams);
    headers = req.headers;
    if (mode === 'bad-json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"servers": [ {"server": ');
      return;
    }
    if (mode === 'slow' && url.searchParams.has('cursor')) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list(url.searchParams)));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    badJsonUrl: `${base}/bad-json`,
    slowUrl: `${base}/slow`,
    requests,
    lastHeaders: () => headers,
    setEntries(next) {
      entries = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
