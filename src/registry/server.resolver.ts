import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { MCPServer } from './mcp-server.entity.js';
import { findVisibleServer } from './server.service.js';

@Resolver(() => MCPServer)
export class ServerResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => MCPServer, { description: "One server by id; another tenant's server is NOT_FOUND." })
  server(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<MCPServer> {
    return findVisibleServer(context.em, viewerOf(context), id);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() server: MCPServer): Promise<Tenant> {
    // Reference loads are batched per request by MikroORM's dataloader.
    return server.tenant.loadOrFail();
  }
}

/** Adds `serverCount` to Tenant: the registry owns servers, so it answers how many a tenant has. */
@Resolver(() => Tenant)
export class TenantServerCountResolver {
  @FieldResolver(() => Int)
  serverCount(@Root() tenant: Tenant, @Ctx() context: GraphQLContext): Promise<number> {
    return context.loaders.serverCountByTenant.load(tenant.id);
  }
}
