import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import { ApiKeyScope, canAccessServer, requireAnyScope } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import { liveStream } from '../pubsub/live-stream.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { findVisibleServer } from '../registry/server.service.js';
import { CircuitBreakerEvent, HEALTH_TOPICS, ServerHealthEvent } from './health.events.js';

const subscriberTooSlow = () =>
  new ApiError(
    ErrorCode.SUBSCRIBER_TOO_SLOW,
    'This subscription fell too far behind; subscribe again to resume.',
  );

/** Events a subscriber may fall behind by before it is told to resubscribe. */
const MAX_QUEUED_EVENTS = 1000;
const LIVE_SCOPES = [ApiKeyScope.READ, ApiKeyScope.HEALTH];

interface WatchArgs {
  serverId?: string | null;
}

/** Who subscribes to what: the viewer's tenant (every tenant for admins), optionally one server. */
async function watch(context: GraphQLContext, args: WatchArgs) {
  const viewer = requireAnyScope(context.viewer, LIVE_SCOPES);
  const serverId = args.serverId ?? null;
  if (serverId !== null) await findVisibleServer(context.em.fork(), serverId);
  const accepts = (event: { tenantId: string; serverId: string }) =>
    canAccessServer(viewer, { id: event.serverId, tenantId: event.tenantId }) &&
    (serverId === null || event.serverId === serverId);
  // The request's tenant scope limits the snapshot's query; events are checked one by one.
  const where = serverId === null ? {} : { id: serverId };
  return { viewer, accepts, where };
}

async function* serverHealthStream(
  context: GraphQLContext,
  args: WatchArgs,
): AsyncGenerator<ServerHealthEvent> {
  const { accepts, where } = await watch(context, args);
  yield* liveStream<ServerHealthEvent>({
    // Only HealthChecker publishes on these topics (through Redis, dates arrive as ISO strings, which the
    // DateTime scalar serialises the same).
    changes: context.eventBus.pubSub.subscribe(
      HEALTH_TOPICS.serverHealthChanged,
    ) as AsyncIterable<ServerHealthEvent>,
    resyncs: context.eventBus.resyncs(),
    accepts,
    maxQueue: MAX_QUEUED_EVENTS,
    tooSlow: subscriberTooSlow,
    snapshot: async () => {
      const servers = await context.em.fork().find(MCPServer, where, { orderBy: { id: 'ASC' } });
      return servers.map((server) => ({
        serverId: server.id,
        tenantId: server.tenant.id,
        previousStatus: null,
        status: server.healthStatus,
        responseTimeMs: server.avgResponseTime,
        error: null,
        checkedAt: server.lastHealthCheckAt,
        version: server.eventVersion,
      }));
    },
  });
}

async function* circuitBreakerStream(
  context: GraphQLContext,
  args: WatchArgs,
): AsyncGenerator<CircuitBreakerEvent> {
  const { accepts, where } = await watch(context, args);
  yield* liveStream<CircuitBreakerEvent>({
    changes: context.eventBus.pubSub.subscribe(
      HEALTH_TOPICS.circuitBreakerChanged,
    ) as AsyncIterable<CircuitBreakerEvent>,
    resyncs: context.eventBus.resyncs(),
    accepts,
    maxQueue: MAX_QUEUED_EVENTS,
    tooSlow: subscriberTooSlow,
    snapshot: async () => {
      const em = context.em.fork();
      const servers = await em.find(MCPServer, where, { orderBy: { id: 'ASC' } });
      const breakers = await em.find(CircuitBreaker, { server: { $in: servers.map((server) => server.id) } });
      const versions = new Map(servers.map((server) => [server.id, server]));
      return breakers.map((breaker) => ({
        serverId: breaker.server.id,
        tenantId: versions.get(breaker.server.id)?.tenant.id ?? '',
        previousState: null,
        state: breaker.state,
        failureCount: breaker.failureCount,
        changedAt: breaker.updatedAt,
        version: versions.get(breaker.server.id)?.eventVersion ?? 0,
      }));
    },
  });
}

@Resolver(() => ServerHealthEvent)
export class HealthSubscriptionResolver {
  @Subscription(() => ServerHealthEvent, {
    description:
      "A server's health status: first the current status, then every change (needs READ or HEALTH).",
    subscribe: ({ args, context }) => serverHealthStream(context as GraphQLContext, args as WatchArgs),
  })
  serverHealthChanged(
    @Root() event: ServerHealthEvent,
    @Arg('serverId', () => ID, {
      nullable: true,
      description: 'One server; all visible servers when omitted.',
    })
    _serverId?: string | null,
  ): ServerHealthEvent {
    return event;
  }

  @Subscription(() => CircuitBreakerEvent, {
    description:
      "A server's circuit breaker: first the current state, then every change (needs READ or HEALTH).",
    subscribe: ({ args, context }) => circuitBreakerStream(context as GraphQLContext, args as WatchArgs),
  })
  circuitBreakerChanged(
    @Root() event: CircuitBreakerEvent,
    @Arg('serverId', () => ID, { nullable: true }) _serverId?: string | null,
  ): CircuitBreakerEvent {
    return event;
  }

  @FieldResolver(() => MCPServer, { nullable: true, description: 'Null once the server has been deleted.' })
  async server(@Root() event: ServerHealthEvent, @Ctx() context: GraphQLContext): Promise<MCPServer | null> {
    // A fresh fork per event: a subscription's context lives as long as the subscription.
    requireAnyScope(context.viewer, LIVE_SCOPES);
    return findVisibleServer(context.em.fork(), event.serverId).catch(() => null);
  }
}
