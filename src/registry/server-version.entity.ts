import { Entity, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from './mcp-server.entity.js';

/**
 * A version a server announced of itself (`serverInfo.version`), kept when a newer one is discovered: the
 * Registry API lists every version a server has had. `createdAt` is when it was first seen, `updatedAt` when
 * it was last changed (its title or description, or when it stopped or became again the latest).
 */
@Entity({ tableName: 'server_versions' })
@Filter(tenantScoped<ServerVersion>(serverInScope))
// One row per version of a server; also loads a server's versions.
@Unique({ name: 'server_versions_server_id_version_unique', properties: ['server', 'version'] })
// The Registry API pages versions by (updated_at, id).
@Index({ name: 'server_versions_updated_at_id_idx', properties: ['updatedAt', 'id'] })
export class ServerVersion extends BaseEntity<'title' | 'description'> {
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Property({ type: 'string', length: 255 })
  version: string;

  /** `serverInfo.title` as the server announced it with this version. */
  @Property({ type: 'text', nullable: true })
  title: string | null = null;

  /** The server's description when this version was seen (a newer version does not rewrite an older one). */
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  constructor(server: Ref<MCPServer>, version: string) {
    super();
    this.server = server;
    this.version = version;
  }
}
