import { Entity, OneToOne, OptionalProps, Property, type Ref } from '@mikro-orm/core';
import { MCPServer } from '../registry/mcp-server.entity.js';

/**
 * Which instance holds the long-lived watch session of a server, and until when (see
 * capability-watcher.ts). Rows are written only with the watcher's own statements; the ORM maps them so the
 * schema is generated and checked like every other table. A row whose `expiresAt` has passed is free to
 * claim; after a failed session it is the time before which nobody tries again.
 */
@Entity({ tableName: 'capability_watch_leases' })
export class CapabilityWatchLease {
  [OptionalProps]?: 'failures' | 'createdAt' | 'updatedAt';

  @OneToOne(() => MCPServer, { primary: true, ref: true, owner: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  /** The instance that holds (or last held) the lease. */
  @Property({ type: 'string', length: 255 })
  owner: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)' })
  expiresAt: Date;

  /** Watch sessions that failed in a row; the wait before the next try doubles with each. */
  @Property({ type: 'integer', default: 0 })
  failures: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({
    type: 'datetime',
    columnType: 'timestamptz(3)',
    defaultRaw: 'now()',
    onUpdate: () => new Date(),
  })
  updatedAt: Date = new Date();

  constructor(server: Ref<MCPServer>, owner: string, expiresAt: Date) {
    this.server = server;
    this.owner = owner;
    this.expiresAt = expiresAt;
  }
}
