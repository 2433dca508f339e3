import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from './user.entity.js';
import { CreateUserInput } from './user.inputs.js';
import { createUser, listUsers } from './user.service.js';

const UserConnection = ConnectionType('User', User);

@Resolver(() => User)
export class UserResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => UserConnection, {
    description: "Users by username: every user for platform admins, your tenant's otherwise.",
  })
  users(
    @Ctx() context: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<User>> {
    return listUsers(context.em, viewerOf(context), pageRequest(first, after));
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => User, {
    description:
      'WRITE creates users in your own tenant (signed in: as its ADMIN); other tenants, no tenant or the ADMIN role need ADMIN.',
  })
  createUser(@Ctx() context: GraphQLContext, @Arg('input') input: CreateUserInput): Promise<User> {
    return createUser(context.em, actorOf(context), viewerOf(context), input);
  }

  @FieldResolver(() => Tenant, { nullable: true, description: 'Platform users have no tenant.' })
  async tenant(@Root() user: User): Promise<Tenant | null> {
    // Reference loads are batched per request by MikroORM's dataloader.
    return (await user.tenant?.load()) ?? null;
  }
}
