import { raw } from '@mikro-orm/core';
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { EntityManager } from '../db/orm.js';
import { dateFromEpochMillis, epochMillisSql, nullableDateFromEpochMillis } from '../db/raw-values.js';
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
  return { viewer, accepts, serverId };
}

// Snapshots are read as plain rows in one statement each: a thousand dashboards resubscribing at once (after
// a deploy, say) must not turn into a thousand identity maps of entities nobody changes. Timestamps are
// selected as epoch milliseconds, which read the same on every driver (raw-values.ts).

/** The current status of each server in the request's scope (only `serverId` when given), as first events. */
async function healthSnapshot(em: EntityManager, serverId: string | null): Promise<ServerHealthEvent[]> {
  const query = em
    .createQueryBuilder(MCPServer, 's')
    .select([
      raw('s.id as "serverId"'),
      raw('s.tenant_id as "tenantId"'),
      raw('s.health_status as status'),
      raw('s.avg_response_time as "responseTimeMs"'),
      raw(`${epochMillisSql('s.last_health_check_at')} as "checkedAt"`),
      raw('s.event_version as version'),
    ])
    .where(serverId === null ? {} : { id: serverId })
    .orderBy({ id: 'ASC' });
  await query.applyFilters();
  const rows: (Omit<ServerHealthEvent, 'previousStatus' | 'error' | 'checkedAt'> & {
    checkedAt: unknown;
  })[] = await query.execute('all', false);
  return rows.map((row) => ({
    ...row,
    previousStatus: null,
    error: null,
    checkedAt: nullableDateFromEpochMillis(row.checkedAt),
  }));
}

/** The current state of each circuit breaker in the request's scope (only `serverId`'s when given), as first events. */
async function circuitBreakerSnapshot(
  em: EntityManager,
  serverId: string | null,
): Promise<CircuitBreakerEvent[]> {
  const query = em
    .createQueryBuilder(CircuitBreaker, 'cb')
    .join('cb.server', 's')
    .select([
      raw('cb.server_id as "serverId"'),
      raw('s.tenant_id as "tenantId"'),
      raw('cb.state as state'),
      raw('cb.failure_count as "failureCount"'),
      raw(`${epochMillisSql('cb.updated_at')} as "changedAt"`),
      raw('s.event_version as version'),
    ])
    .where(serverId === null ? {} : { server: serverId })
    .orderBy({ server: 'ASC' });
  await query.applyFilters();
  const rows: (Omit<CircuitBreakerEvent, 'previousState' | 'changedAt'> & { changedAt: unknown })[] =
    await query.execute('all', false);
  return rows.map((row) => ({ ...row, previousState: null, changedAt: dateFromEpochMillis(row.changedAt) }));
}

// Plain async functions, not generators: the stream they return must end as soon as the client leaves.
async function serverHealthStream(
  context: GraphQLContext,
  args: WatchArgs,
): Promise<AsyncIterable<ServerHealthEvent>> {
  const { accepts, serverId } = await watch(context, args);
  return liveStream<ServerHealthEvent>({
    // Only HealthChecker publishes on these topics (through Redis, dates arrive as ISO strings, which the
    // DateTime scalar serialises the same).
    changes: context.eventBus.pubSub.subscribe(HEALTH_TOPICS.serverHealthChanged),
    resyncs: context.eventBus.resyncs(),
    accepts,
    maxQueue: MAX_QUEUED_EVENTS,
    tooSlow: subscriberTooSlow,
    snapshot: () => healthSnapshot(context.em.fork(), serverId),
  });
}

async function circuitBreakerStream(
  context: GraphQLContext,
  args: WatchArgs,
): Promise<AsyncIterable<CircuitBreakerEvent>> {
  const { accepts, serverId } = await watch(context, args);
  return liveStream<CircuitBreakerEvent>({
    changes: context.eventBus.pubSub.subscribe(HEALTH_TOPICS.circuitBreakerChanged),
    resyncs: context.eventBus.resyncs(),
    accepts,
    maxQueue: MAX_QUEUED_EVENTS,
    tooSlow: subscriberTooSlow,
    snapshot: () => circuitBreakerSnapshot(context.em.fork(), serverId),
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
