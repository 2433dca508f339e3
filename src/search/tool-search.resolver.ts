import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, Info, Int, Query, Resolver } from 'type-graphql';
import { ApiKeyScope } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { selectedFieldNames } from '../graphql/selection.js';
import { searchTools } from './tool-search.service.js';
import { ToolSearchHit } from './tool-search-hit.type.js';

const ToolSearchHitConnection = ConnectionType('ToolSearchHit', ToolSearchHit);

@Resolver()
export class ToolSearchResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => ToolSearchHitConnection, {
    description:
      'Tools of every server the caller may see whose name or description matches the words of `query`, in any ' +
      'word form and despite typos, best first.',
  })
  searchTools(
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('query') query: string,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<ToolSearchHit>> {
    return searchTools(context.em, query, pageRequest(first, after), {
      countAll: selectedFieldNames(info).has('totalCount'),
    });
  }
}
