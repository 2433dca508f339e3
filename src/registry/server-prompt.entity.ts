import { Entity, Filter, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { JSONScalar, type JsonValue } from '../graphql/scalars.js';
import { MCPServer } from './mcp-server.entity.js';

/** A prompt template a server offers. */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'server_prompts' })
@Filter(tenantScoped<ServerPrompt>(serverInScope))
// One prompt name per server; also loads a server's prompts.
@Unique({ name: 'server_prompts_server_id_name_unique', properties: ['server', 'name'] })
export class ServerPrompt extends BaseEntity<'description' | 'arguments'> {
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** The prompt's declared arguments: `[{ name, description, required }]`. */
  @Field(() => JSONScalar)
  @Property({ type: 'json', default: '[]' })
  arguments: JsonValue[] = [];

  constructor(server: Ref<MCPServer>, name: string) {
    super();
    this.server = server;
    this.name = name;
  }
}
