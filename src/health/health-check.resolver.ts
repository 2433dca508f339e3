import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { checkServerNow } from './health-check.service.js';

@Resolver(() => MCPServer)
export class HealthCheckResolver {
  @Authorized(ApiKeyScope.WRITE, ApiKeyScope.HEALTH)
  @Mutation(() => MCPServer, { description: 'Probes the server now and returns it with its updated health.' })
  checkServerHealth(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<MCPServer> {
    const { em, eventBus, config, keyring } = context;
    return checkServerNow(em, actorOf(context), id, {
      pubSub: eventBus.pubSub,
      health: config.health,
      keyring,
    });
  }
}
