import { Entity, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from './mcp-server.entity.js';
import { isUriTemplate, uriTemplateToRegex } from './uri-template.js';

/** A resource (fixed URI) or resource template (RFC 6570 URI template) a server offers. */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'server_resources' })
@Filter(tenantScoped<ServerResource>(serverInScope))
export class ServerResource extends BaseEntity<
  'name' | 'description' | 'mimeType' | 'isTemplate' | 'uriRegex'
> {
  @Index({ name: 'server_resources_server_id_idx' })
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Field()
  @Property({ type: 'text' })
  uriTemplate: string;

  /** True for a resource template (`resources/templates/list`), false for a concrete resource URI. */
  @Field()
  @Property({ type: 'boolean', default: false })
  isTemplate: boolean = false;

  /**
   * For templates, a PostgreSQL regular expression that matches the URIs the template expands to, so
   * discovery can ask "which servers can serve this URI" in SQL. Null for concrete resources.
   */
  @Property({ type: 'text', nullable: true })
  uriRegex: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 255, nullable: true })
  name: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 255, nullable: true })
  mimeType: string | null = null;

  constructor(server: Ref<MCPServer>, uriTemplate: string) {
    super();
    this.server = server;
    this.uriTemplate = uriTemplate;
    this.isTemplate = isUriTemplate(uriTemplate);
    this.uriRegex = this.isTemplate ? uriTemplateToRegex(uriTemplate) : null;
  }
}
