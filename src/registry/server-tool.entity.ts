import { Entity, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Directive, Field, Float, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { MCPServer } from './mcp-server.entity.js';
import { SEARCH_DOCUMENT_COLUMN } from './text-search.columns.js';

type ServerToolDefaults =
  | 'description'
  | 'toolSchema'
  | 'annotations'
  | 'totalCalls'
  | 'successCount'
  | 'errorCount'
  | 'avgExecutionTime';

/** A tool a server offers, with its input schema and the gateway's usage statistics for it. */
@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'server_tools' })
@Filter(tenantScoped<ServerTool>(serverInScope))
// One tool name per server; also loads a server's tools.
@Unique({ name: 'server_tools_server_id_name_unique', properties: ['server', 'name'] })
// Discovery by tool name ("servers that have ALL these tools"), source index idx_tools_name_server.
@Index({ name: 'server_tools_name_server_id_idx', properties: ['name', 'server'] })
// Tool search (src/registry/text-search.ts): full text by words and word forms.
@Index({
  name: 'server_tools_search_document_idx',
  expression:
    'create index "server_tools_search_document_idx" on "server_tools" using gin ("search_document")',
})
export class ServerTool extends BaseEntity<ServerToolDefaults> {
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** The tool's JSON Schema for its arguments (`inputSchema` in MCP). */
  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '{}' })
  toolSchema: JsonObject = {};

  /** MCP tool annotations (readOnlyHint, destructiveHint, ...). */
  @Field(() => JSONScalar, { nullable: true })
  @Property({ type: 'json', nullable: true })
  annotations: JsonObject | null = null;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  totalCalls: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  successCount: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  errorCount: number = 0;

  /** Average call duration through the gateway, in milliseconds. */
  @Field(() => Float, { nullable: true })
  @Property({ type: 'double', nullable: true })
  avgExecutionTime: number | null = null;

  /** What tool search matches words against (text-search.ts); computed by PostgreSQL, never read. */
  @Property({ ...SEARCH_DOCUMENT_COLUMN, generated: '(search_document(name, description)) stored' })
  readonly searchDocument?: string;

  constructor(server: Ref<MCPServer>, name: string) {
    super();
    this.server = server;
    this.name = name;
  }
}
