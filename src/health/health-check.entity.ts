import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { ServerStatus } from '../registry/registry.enums.js';

/** What one probe found. */
export enum ProbeOutcome {
  OK = 'ok',
  TIMEOUT = 'timeout',
  UNREACHABLE = 'unreachable',
  AUTH_FAILED = 'auth_failed',
  PROTOCOL_ERROR = 'protocol_error',
}
registerEnumType(ProbeOutcome, { name: 'ProbeOutcome' });

/** One probe of one server: the history behind uptime charts. */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'health_checks' })
@Filter(tenantScoped<HealthCheck>(serverInScope))
// A server's recent history (healthHistory(last: N)) and pruning by age.
@Index({ name: 'health_checks_server_id_checked_at_idx', properties: ['server', 'checkedAt'] })
export class HealthCheck extends BaseEntity<'checkedAt' | 'responseTimeMs' | 'protocolVersion' | 'error'> {
  @ManyToOne(() => MCPServer, { ref: true, deleteRule: 'cascade' })
  server: Ref<MCPServer>;

  @Field(() => Date)
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  checkedAt: Date = new Date();

  /** The server's status after this probe. */
  @Field(() => ServerStatus)
  @Enum({ items: () => ServerStatus })
  status: ServerStatus;

  @Field(() => ProbeOutcome)
  @Enum({ items: () => ProbeOutcome })
  outcome: ProbeOutcome;

  @Field(() => Float, { nullable: true })
  @Property({ type: 'double', nullable: true })
  responseTimeMs: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 32, nullable: true })
  protocolVersion: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  constructor(server: Ref<MCPServer>, status: ServerStatus, outcome: ProbeOutcome) {
    super();
    this.server = server;
    this.status = status;
    this.outcome = outcome;
  }
}
