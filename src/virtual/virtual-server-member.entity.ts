import { Entity, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { VirtualServer } from './virtual-server.entity.js';

/** A rename or new description of one upstream tool, as the agent sees it. */
export interface ToolOverride {
  readonly toolName: string;
  readonly name?: string | null;
  readonly description?: string | null;
}

/**
 * A registered server in a virtual server: all of its tools (`toolNames` null, now and after later
 * discoveries) or the ones named. A join table, so that deleting the server removes it from every virtual
 * server through the foreign key.
 */
@Entity({ tableName: 'virtual_server_members' })
@Filter(tenantScoped<VirtualServerMember>(serverInScope))
@Unique({
  name: 'virtual_server_members_virtual_server_id_server_id_unique',
  properties: ['virtualServer', 'server'],
})
export class VirtualServerMember extends BaseEntity<'toolNames' | 'overrides'> {
  @ManyToOne(() => VirtualServer, { ref: true, deleteRule: 'cascade' })
  virtualServer: Ref<VirtualServer>;

  // Deleting a server removes it from the virtual servers it is a member of.
  @Index({ name: 'virtual_server_members_server_id_idx' })
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  /** The member's place in its virtual server: decides which of two equal names an agent sees first. */
  @Property({ type: 'integer' })
  position: number;

  /** The upstream tools offered; null for every tool the server has, including later ones. */
  @Property({ type: 'json', nullable: true })
  toolNames: string[] | null = null;

  /** What `{prefix}__{tool}` names start with. */
  @Property({ type: 'string', length: 64 })
  prefix: string;

  @Property({ type: 'json', default: '[]' })
  overrides: ToolOverride[] = [];

  constructor(virtualServer: Ref<VirtualServer>, server: Ref<MCPServer>, position: number, prefix: string) {
    super();
    this.virtualServer = virtualServer;
    this.server = server;
    this.position = position;
    this.prefix = prefix;
  }
}
