import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context.js';
import { badUserInput } from '../graphql/errors.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import type { ServerRow } from '../registry/registry.loaders.js';
import { HealthCheck } from './health-check.entity.js';

const MAX_HISTORY = 500;

/** Adds `healthHistory` to MCPServer: the health feature owns probe history. */
@Resolver(() => MCPServer)
export class HealthHistoryResolver {
  @FieldResolver(() => [HealthCheck], { description: 'The latest probes, newest first.' })
  healthHistory(
    @Root() server: ServerRow,
    @Ctx() context: GraphQLContext,
    @Arg('last', () => Int, { defaultValue: 50 }) last: number,
  ): Promise<HealthCheck[]> {
    if (!Number.isInteger(last) || last < 1 || last > MAX_HISTORY) {
      throw badUserInput(`"last" must be between 1 and ${MAX_HISTORY}.`, 'last');
    }
    return context.loaders.recentHealthChecks(last).load(server.id);
  }
}
