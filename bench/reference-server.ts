import { createHash } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import DataLoader from 'dataloader';
import express from 'express';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import pg from 'pg';

// The yardstick for ServerList: what a minimal hand-written Apollo Server with pg and DataLoader does on the same
// machine, data and load (issue 6 puts it at about 40 requests per CPU-second on its machine). It serves only the
// ServerList page, answers it exactly as the registry does (the bench checks its answer the same way), and does
// nothing else: no ORM, no tenant scoping, no rate limits; the key is looked up by its hash, and not checked.
// Run by `npm run bench` as a child process, like the registry; never part of the product.

type Row = Record<string, unknown>;

const typeDefs = `#graphql
  scalar JSON
  scalar DateTime
  enum TransportType { STREAMABLE_HTTP SSE STDIO WEBSOCKET }
  enum ServerStatus { HEALTHY DEGRADED UNHEALTHY UNKNOWN MAINTENANCE }
  enum CircuitBreakerState { CLOSED OPEN HALF_OPEN }
  input ServerFilter { search: String }
  type Tenant { id: ID! name: String! }
  type CircuitBreaker { state: CircuitBreakerState! failureCount: Int! failureThreshold: Int! openedAt: DateTime }
  type ServerTool {
    id: ID! name: String! description: String toolSchema: JSON!
    totalCalls: Int! successCount: Int! errorCount: Int! avgExecutionTime: Float
  }
  type ServerResource { id: ID! uriTemplate: String! name: String mimeType: String }
  type MCPServer {
    id: ID! name: String! description: String endpointUrl: String! transportType: TransportType!
    healthStatus: ServerStatus! avgResponseTime: Float successRate: Float! activeConnections: Int!
    lastHealthCheckAt: DateTime createdAt: DateTime! updatedAt: DateTime!
    tenant: Tenant! circuitBreaker: CircuitBreaker tools: [ServerTool!]! resources: [ServerResource!]!
  }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type MCPServerEdge { cursor: String! node: MCPServer! }
  type MCPServerConnection { totalCount: Int! pageInfo: PageInfo! edges: [MCPServerEdge!]! }
  type Query { servers(filter: ServerFilter, first: Int, after: String): MCPServerConnection! }
`;

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

interface Context {
  readonly tenants: DataLoader<string, Row | null>;
  readonly breakers: DataLoader<string, Row | null>;
  readonly tools: DataLoader<string, Row[]>;
  readonly resources: DataLoader<string, Row[]>;
}

const one = (sql: string, key: string) =>
  new DataLoader<string, Row | null>(async (ids) => {
    const { rows } = await pool.query<Row>(sql, [ids]);
    const byKey = new Map(rows.map((row) => [row[key] as string, row]));
    return ids.map((id) => byKey.get(id) ?? null);
  });
const many = (sql: string) =>
  new DataLoader<string, Row[]>(async (ids) => {
    const { rows } = await pool.query<Row>(sql, [ids]);
    const byServer = new Map<string, Row[]>(ids.map((id) => [id, []]));
    for (const row of rows) byServer.get(row.server_id as string)?.push(row);
    return ids.map((id) => byServer.get(id) ?? []);
  });

const column = (name: string) => (row: Row) => row[name];
const upper = (name: string) => (row: Row) => String(row[name]).toUpperCase();

const resolvers = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query: {
    async servers(_root: unknown, args: { first?: number | null }) {
      const first = args.first ?? 20;
      const [count, page] = await Promise.all([
        pool.query<{ count: number }>('select count(*)::int as count from mcp_servers'),
        pool.query<Row>('select * from mcp_servers order by name, id limit $1', [first + 1]),
      ]);
      const cursor = (row: Row) => Buffer.from(JSON.stringify([row.name, row.id])).toString('base64url');
      const edges = page.rows.slice(0, first).map((row) => ({ cursor: cursor(row), node: row }));
      return {
        totalCount: count.rows[0]?.count ?? 0,
        pageInfo: { hasNextPage: page.rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        edges,
      };
    },
  },
  MCPServer: {
    endpointUrl: column('endpoint_url'),
    transportType: upper('transport_type'),
    healthStatus: upper('health_status'),
    avgResponseTime: column('avg_response_time'),
    successRate: column('success_rate'),
    activeConnections: column('active_connections'),
    lastHealthCheckAt: column('last_health_check_at'),
    createdAt: column('created_at'),
    updatedAt: column('updated_at'),
    tenant: (row: Row, _args: unknown, context: Context) => context.tenants.load(row.tenant_id as string),
    circuitBreaker: (row: Row, _args: unknown, context: Context) => context.breakers.load(row.id as string),
    tools: (row: Row, _args: unknown, context: Context) => context.tools.load(row.id as string),
    resources: (row: Row, _args: unknown, context: Context) => context.resources.load(row.id as string),
  },
  CircuitBreaker: {
    state: upper('state'),
    failureCount: column('failure_count'),
    failureThreshold: column('failure_threshold'),
    openedAt: column('opened_at'),
  },
  ServerTool: {
    toolSchema: column('tool_schema'),
    totalCalls: column('total_calls'),
    successCount: column('success_count'),
    errorCount: column('error_count'),
    avgExecutionTime: column('avg_execution_time'),
  },
  ServerResource: { uriTemplate: column('uri_template'), mimeType: column('mime_type') },
};

const apollo = new ApolloServer<Context>({ typeDefs, resolvers });
await apollo.start();
const app = express();
app.get('/readyz', (_request, response) => {
  response.send('ok');
});
app.use(
  '/graphql',
  express.json({ limit: '1mb' }),
  expressMiddleware(apollo, {
    async context({ req }) {
      const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const hash = createHash('sha256').update(key, 'utf8').digest('hex');
      await pool.query('select id from api_keys where key_hash = $1 limit 1', [hash]);
      return {
        tenants: one('select * from tenants where id = any($1)', 'id'),
        breakers: one('select * from circuit_breakers where server_id = any($1)', 'server_id'),
        tools: many('select * from server_tools where server_id = any($1) order by name'),
        resources: many('select * from server_resources where server_id = any($1) order by uri_template, id'),
      };
    },
  }),
);
const server = app.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void apollo.stop().then(() => pool.end());
});
