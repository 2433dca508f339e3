import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import {
  databaseSizeSummary,
  indexUsageSummary,
  requestPerformanceSummary,
  requestTimeSeries,
  serverHealthSummary,
  serverScope,
  tenantUsageSummary,
  topTools,
} from './analytics.service.js';
import {
  IndexUsage,
  RequestPerformanceSummary,
  RequestTimeBucket,
  ServerHealthSummary,
  TableSize,
  TenantUsageSummary,
  TimeBucket,
  ToolUsage,
} from './analytics.types.js';

/**
 * METRICS or READ: METRICS exists so a monitoring dashboard can read figures without being able to list
 * the registry's contents; a READ key can already see every server and request of its tenant, and these
 * are only aggregates of them, so it gets the figures too. Either way a tenant key's figures cover only
 * its own tenant; platform admins' cover every tenant.
 */
const FIGURES = [ApiKeyScope.METRICS, ApiKeyScope.READ];

@Resolver()
export class AnalyticsResolver {
  @Authorized(...FIGURES)
  @Query(() => ServerHealthSummary, { description: "Your tenant's servers by health; admins: every server." })
  serverHealthSummary(@Ctx() context: GraphQLContext): Promise<ServerHealthSummary> {
    return serverHealthSummary(context.em, viewerOf(context));
  }

  @Authorized(...FIGURES)
  @Query(() => RequestPerformanceSummary, { description: 'Request count, error rate and percentiles.' })
  requestPerformanceSummary(
    @Ctx() context: GraphQLContext,
    @Arg('hours', () => Int, { description: 'The window: 1 to 2160 (90 days).' }) hours: number,
  ): Promise<RequestPerformanceSummary> {
    return requestPerformanceSummary(context.em, viewerOf(context), hours);
  }

  @Authorized(...FIGURES)
  @Query(() => [RequestTimeBucket], {
    description: 'Requests per bucket over the last `hours`, oldest first, empty buckets included.',
  })
  requestTimeSeries(
    @Ctx() context: GraphQLContext,
    @Arg('hours', () => Int) hours: number,
    @Arg('bucket', () => TimeBucket) bucket: TimeBucket,
  ): Promise<RequestTimeBucket[]> {
    return requestTimeSeries(context.em, viewerOf(context), hours, bucket);
  }

  @Authorized(...FIGURES)
  @Query(() => TenantUsageSummary, {
    description: "A tenant's usage; other tenants' are NOT_FOUND for non-admins.",
  })
  tenantUsageSummary(
    @Ctx() context: GraphQLContext,
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('hours', () => Int) hours: number,
  ): Promise<TenantUsageSummary> {
    return tenantUsageSummary(context.em, viewerOf(context), tenantId, hours);
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Query(() => [TableSize], { description: 'Tables by total size, largest first. Platform admins only.' })
  databaseSizeSummary(@Ctx() context: GraphQLContext): Promise<TableSize[]> {
    return databaseSizeSummary(context.em);
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Query(() => [IndexUsage], { description: 'Indexes, least used first. Platform admins only.' })
  indexUsageSummary(@Ctx() context: GraphQLContext): Promise<IndexUsage[]> {
    return indexUsageSummary(context.em);
  }
}

@Resolver(() => TenantUsageSummary)
export class TenantUsageSummaryResolver {
  // The summary was only resolved for a tenant the viewer may see, so its tenant id is safe to use here; the
  // servers are the viewer's, like the summary's own server figures.
  @FieldResolver(() => [ToolUsage], { description: 'The most called tools, most calls first.' })
  topTools(
    @Root() summary: TenantUsageSummary,
    @Ctx() context: GraphQLContext,
    @Arg('limit', () => Int, { defaultValue: 10, description: '1 to 100.' }) limit: number,
  ): Promise<ToolUsage[]> {
    return topTools(context.em, summary.tenantId, serverScope(viewerOf(context)), limit);
  }
}
