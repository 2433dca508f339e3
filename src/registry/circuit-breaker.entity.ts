import { Entity, Enum, Filter, OneToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { serverInScope, tenantScoped } from '../db/tenant-scope.js';
import { MCPServer } from './mcp-server.entity.js';
import { CircuitBreakerState } from './registry.enums.js';

type CircuitBreakerDefaults =
  | 'state'
  | 'failureCount'
  | 'successCount'
  | 'openedAt'
  | 'lastFailureAt'
  | 'lastSuccessAt'
  | 'totalRequests'
  | 'totalFailures'
  | 'totalSuccesses';

/**
 * The persisted circuit breaker of one server, so every API instance routes by the same state.
 * It is part of the server's record (created with it); the health checker moves it.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'circuit_breakers' })
@Filter(tenantScoped<CircuitBreaker>(serverInScope))
export class CircuitBreaker extends BaseEntity<CircuitBreakerDefaults> {
  @OneToOne(() => MCPServer, {
    ref: true,
    owner: true,
    deleteRule: 'cascade',
    unique: 'circuit_breakers_server_id_unique',
  })
  server: Ref<MCPServer>;

  @Field(() => CircuitBreakerState)
  @Enum({ items: () => CircuitBreakerState, default: CircuitBreakerState.CLOSED })
  state: CircuitBreakerState = CircuitBreakerState.CLOSED;

  /** Consecutive failures while CLOSED (or HALF_OPEN). */
  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  failureCount: number = 0;

  /** Consecutive successes while HALF_OPEN. */
  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  successCount: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer' })
  failureThreshold: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  successThreshold: number;

  /** How long the circuit stays OPEN before a trial request (HALF_OPEN), in milliseconds. */
  @Field(() => Int)
  @Property({ type: 'integer' })
  openTimeoutMs: number;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  openedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastFailureAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastSuccessAt: Date | null = null;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  totalRequests: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  totalFailures: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  totalSuccesses: number = 0;

  constructor(
    server: Ref<MCPServer>,
    thresholds: { failureThreshold: number; successThreshold: number; openTimeoutMs: number },
  ) {
    super();
    this.server = server;
    this.failureThreshold = thresholds.failureThreshold;
    this.successThreshold = thresholds.successThreshold;
    this.openTimeoutMs = thresholds.openTimeoutMs;
  }
}
