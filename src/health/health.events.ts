import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { CircuitBreakerState, ServerStatus } from '../registry/registry.enums.js';

/** Event bus topics. Every instance publishes to and listens on the same names. */
export const HEALTH_TOPICS = {
  serverHealthChanged: 'registry.server-health-changed',
  circuitBreakerChanged: 'registry.circuit-breaker-changed',
} as const;

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [HEALTH_TOPICS.serverHealthChanged]: ServerHealthEvent;
    [HEALTH_TOPICS.circuitBreakerChanged]: CircuitBreakerEvent;
  }
}

@ObjectType({ simpleResolvers: true, description: "A change of a server's health status." })
export class ServerHealthEvent {
  @Field(() => ID)
  serverId!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => ServerStatus, {
    nullable: true,
    description: 'Null in the first event, which states the current status.',
  })
  previousStatus!: ServerStatus | null;

  @Field(() => ServerStatus)
  status!: ServerStatus;

  @Field(() => Float, { nullable: true })
  responseTimeMs!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Date, { nullable: true })
  checkedAt!: Date | null;

  @Field(() => Int, { description: "The server's event version: drop events older than one already seen." })
  version!: number;
}

@ObjectType({ simpleResolvers: true, description: "A change of a server's circuit breaker." })
export class CircuitBreakerEvent {
  @Field(() => ID)
  serverId!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => CircuitBreakerState, { nullable: true })
  previousState!: CircuitBreakerState | null;

  @Field(() => CircuitBreakerState)
  state!: CircuitBreakerState;

  @Field(() => Int)
  failureCount!: number;

  @Field(() => Date)
  changedAt!: Date;

  @Field(() => Int)
  version!: number;
}
