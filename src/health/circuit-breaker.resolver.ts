import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { resetCircuitBreaker } from './circuit-breaker.service.js';

@Resolver(() => CircuitBreaker)
export class CircuitBreakerResolver {
  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => CircuitBreaker, { description: "Closes a server's circuit by hand." })
  resetCircuitBreaker(
    @Ctx() context: GraphQLContext,
    @Arg('serverId', () => ID) serverId: string,
  ): Promise<CircuitBreaker> {
    return resetCircuitBreaker(context.em, actorOf(context), serverId, context.eventBus.pubSub);
  }
}
