import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Directive, Field, Float, Int, ObjectType } from 'type-graphql';
import type { SealedValue } from '../crypto/keyring.js';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { ServerStatus, TransportType } from './registry.enums.js';
import { SEARCH_DOCUMENT_COLUMN } from './text-search.columns.js';

type McpServerDefaults =
  | 'description'
  | 'capabilities'
  | 'protocolVersion'
  | 'serverInfo'
  | 'tags'
  | 'healthStatus'
  | 'avgResponseTime'
  | 'successRate'
  | 'activeConnections'
  | 'lastHealthCheckAt'
  | 'sealedHeaders'
  | 'consecutiveFailures'
  | 'consecutiveSuccesses'
  | 'nextCheckAt'
  | 'eventVersion'
  | 'capabilitiesDiscovered'
  | 'capabilitiesRefreshedAt';

/**
 * A registered MCP server and what the registry last learned about it. Its tools, resources and prompts
 * point to it (not the other way round) and are loaded per request in batches by server id.
 */
@Directive('@key(fields: "id")')
@ObjectType('MCPServer', { simpleResolvers: true })
@Entity({ tableName: 'mcp_servers' })
// Raw statements state the same rule with scopeConditionSql (db/tenant-scope.ts; test/tenant-scope.test.ts).
@Filter(
  tenantScoped<MCPServer>((scope) => ({
    tenant: scope.tenantId,
    ...(scope.serverIds === null ? {} : { id: { $in: [...scope.serverIds] } }),
  })),
)
// Server names are unique per tenant; the index also serves "servers of tenant X" lookups.
@Unique({ name: 'mcp_servers_tenant_id_name_unique', properties: ['tenant', 'name'] })
// The server list's default order across tenants (platform admins): a page reads its rows, not a sort of all.
@Index({ name: 'mcp_servers_name_id_idx', properties: ['name', 'id'] })
// Dashboards list a tenant's servers by health status (source index idx_servers_tenant_status).
@Index({ name: 'mcp_servers_tenant_id_health_status_idx', properties: ['tenant', 'healthStatus'] })
// The health checker claims servers whose next check is due (maintenance servers are never probed).
@Index({
  name: 'mcp_servers_next_check_at_idx',
  expression:
    'create index "mcp_servers_next_check_at_idx" on "mcp_servers" ("next_check_at") ' +
    'where "health_status" <> \'maintenance\'',
})
// Scheduled refreshes claim the servers whose capabilities were read longest ago.
@Index({
  name: 'mcp_servers_capabilities_refreshed_at_idx',
  expression:
    'create index "mcp_servers_capabilities_refreshed_at_idx" on "mcp_servers" ("capabilities_refreshed_at") ' +
    'where "capabilities_discovered"',
})
// Discovery only ever routes to usable servers, fastest first: a partial index keeps it small.
@Index({
  name: 'mcp_servers_discovery_idx',
  expression:
    'create index "mcp_servers_discovery_idx" on "mcp_servers" ("avg_response_time", "id") ' +
    "where \"health_status\" in ('healthy', 'degraded')",
})
// `servers(filter: { search })` matches as tool search does (src/registry/text-search.ts).
@Index({
  name: 'mcp_servers_search_document_idx',
  expression: 'create index "mcp_servers_search_document_idx" on "mcp_servers" using gin ("search_document")',
})
export class MCPServer extends BaseEntity<McpServerDefaults> {
  @ManyToOne(() => Tenant, { ref: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant>;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** An http(s) URL, or for STDIO servers the command line to spawn. */
  @Field()
  @Property({ type: 'text' })
  endpointUrl: string;

  @Field(() => TransportType)
  @Enum({ items: () => TransportType })
  transportType: TransportType;

  /** The capabilities object the server announced in its initialize / server/discover result. */
  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '{}' })
  capabilities: JsonObject = {};

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 32, nullable: true })
  protocolVersion: string | null = null;

  /** The server's self-description (`serverInfo`: name, version, title). */
  @Field(() => JSONScalar, { nullable: true })
  @Property({ type: 'json', nullable: true })
  serverInfo: JsonObject | null = null;

  @Field(() => [String])
  @Property({ type: 'text[]', default: '{}' })
  tags: string[] = [];

  @Field(() => ServerStatus)
  @Enum({ items: () => ServerStatus, default: ServerStatus.UNKNOWN })
  healthStatus: ServerStatus = ServerStatus.UNKNOWN;

  /** Moving average of probe latency, in milliseconds; null until the first successful probe. */
  @Field(() => Float, { nullable: true })
  @Property({ type: 'double', nullable: true })
  avgResponseTime: number | null = null;

  /** Share of recent probes that succeeded, from 0 to 1. */
  @Field(() => Float)
  @Property({ type: 'double', default: 1 })
  successRate: number = 1;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  activeConnections: number = 0;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastHealthCheckAt: Date | null = null;

  /** Probe results in a row, for the status hysteresis (one resets the other). */
  @Property({ type: 'integer', default: 0 })
  consecutiveFailures: number = 0;

  @Property({ type: 'integer', default: 0 })
  consecutiveSuccesses: number = 0;

  /**
   * Whether the stored tools, resources and prompts were read from the server itself (and so are kept fresh
   * on a schedule) rather than declared at registration.
   */
  @Field({ description: 'True when capabilities were read from the server; false when declared.' })
  @Property({ type: 'boolean', default: false })
  capabilitiesDiscovered: boolean = false;

  /** When the capabilities were last read from the server; scheduled refreshes claim servers by it. */
  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  capabilitiesRefreshedAt: Date | null = null;

  /** When the health checker should probe next; claiming a server moves it one interval ahead. */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  nextCheckAt: Date = new Date();

  /**
   * Increases with every health or circuit change of this server, so subscribers can drop events that
   * arrive out of order or repeat what they already have.
   */
  @Field(() => Int, { description: 'Increases with every health or circuit breaker change.' })
  @Property({ type: 'integer', default: 0 })
  eventVersion: number = 0;

  /**
   * Headers (tokens) the registry sends when it connects, sealed for this server (see
   * connection-headers.ts, the only code that reads or writes them). Never exposed through GraphQL, never
   * serialised, and loaded only when a probe or call needs them.
   */
  @Property({ fieldName: 'connection_headers', type: 'json', nullable: true, hidden: true, lazy: true })
  sealedHeaders: SealedValue | null = null;

  /** What server search matches words against (text-search.ts); computed by PostgreSQL, never read. */
  @Property({ ...SEARCH_DOCUMENT_COLUMN, generated: '(search_document(name, description)) stored' })
  readonly searchDocument?: string;

  constructor(fields: {
    tenant: Ref<Tenant>;
    name: string;
    endpointUrl: string;
    transportType: TransportType;
  }) {
    super();
    this.tenant = fields.tenant;
    this.name = fields.name;
    this.endpointUrl = fields.endpointUrl;
    this.transportType = fields.transportType;
  }
}
