import {
  Entity,
  Enum,
  Filter,
  ManyToOne,
  OneToOne,
  OptionalProps,
  Property,
  type Ref,
  Unique,
} from '@mikro-orm/core';
import { registerEnumType } from 'type-graphql';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { RegistrySource } from './registry-source.entity.js';

/**
 * An imported server's state upstream: the official registry's lifecycle status, or MISSING when a full
 * listing no longer had the entry at all (a registry that forgets deleted entries instead of marking them).
 */
export enum UpstreamStatus {
  ACTIVE = 'active',
  DEPRECATED = 'deprecated',
  DELETED = 'deleted',
  MISSING = 'missing',
}
registerEnumType(UpstreamStatus, { name: 'UpstreamStatus' });

/**
 * Where an imported server came from and what its upstream entry said when it was last imported. A run
 * compares an entry with this snapshot (never with the server row, which people may edit): equal means
 * unchanged, and nothing is written.
 */
@Entity({ tableName: 'imported_servers' })
@Filter(tenantScoped<ImportedServer>(serverInScope))
@Unique({ name: 'imported_servers_source_id_upstream_name_unique', properties: ['source', 'upstreamName'] })
export class ImportedServer {
  [OptionalProps]?: 'statusMessage' | 'upstreamUpdatedAt' | 'description' | 'createdAt' | 'updatedAt';

  @OneToOne(() => MCPServer, { primary: true, ref: true, owner: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @ManyToOne(() => RegistrySource, { ref: true, deleteRule: 'cascade' })
  source: Ref<RegistrySource>;

  /** The entry's server.json `name` (`io.github.user/weather`). */
  @Property({ type: 'string', length: 255 })
  upstreamName: string;

  @Property({ type: 'string', length: 255 })
  upstreamVersion: string;

  @Enum({ items: () => UpstreamStatus })
  status: UpstreamStatus;

  @Property({ type: 'text', nullable: true })
  statusMessage: string | null = null;

  /** The entry's `updatedAt` in the upstream's `_meta`, when it gave one. */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  upstreamUpdatedAt: Date | null = null;

  /** The remote as imported: its URL with variables substituted, and its transport. */
  @Property({ type: 'text' })
  remoteUrl: string;

  @Enum({ items: () => TransportType })
  remoteType: TransportType;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** Header names the entry's remote requires: "needs credentials" until the server has each of them. */
  @Property({ type: 'text[]', default: '{}' })
  requiredHeaders: string[] = [];

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({
    type: 'datetime',
    columnType: 'timestamptz(3)',
    defaultRaw: 'now()',
    onUpdate: () => new Date(),
  })
  updatedAt: Date = new Date();

  constructor(
    server: Ref<MCPServer>,
    source: Ref<RegistrySource>,
    fields: {
      upstreamName: string;
      upstreamVersion: string;
      status: UpstreamStatus;
      remoteUrl: string;
      remoteType: TransportType;
    },
  ) {
    this.server = server;
    this.source = source;
    this.upstreamName = fields.upstreamName;
    this.upstreamVersion = fields.upstreamVersion;
    this.status = fields.status;
    this.remoteUrl = fields.remoteUrl;
    this.remoteType = fields.remoteType;
  }
}
