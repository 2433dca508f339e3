import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { RequestLog } from './request-log.entity.js';
import { RequestLogFilter } from './request-log.inputs.js';
import { listRequestLogs } from './request-log.service.js';

const RequestLogConnection = ConnectionType('RequestLog', RequestLog);

@Resolver(() => RequestLog)
export class RequestLogResolver {
  /** METRICS or READ, like the analytics built from these rows (see AnalyticsResolver). */
  @Authorized(ApiKeyScope.METRICS, ApiKeyScope.READ)
  @Query(() => RequestLogConnection, {
    description: "API requests, newest first: your tenant's, or every tenant's for platform admins.",
  })
  requestLogs(
    @Ctx() context: GraphQLContext,
    @Arg('filter', () => RequestLogFilter, { nullable: true }) filter?: RequestLogFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<RequestLog>> {
    return listRequestLogs(context.em, viewerOf(context), filter, pageRequest(first, after));
  }
}
