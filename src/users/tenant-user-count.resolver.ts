import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context.js';
import { Tenant } from '../tenants/tenant.entity.js';

/** Adds `userCount` to Tenant. */
@Resolver(() => Tenant)
export class TenantUserCountResolver {
  @FieldResolver(() => Int)
  userCount(@Root() tenant: Tenant, @Ctx() context: GraphQLContext): Promise<number> {
    return context.loaders.userCountByTenant.load(tenant.id);
  }
}
