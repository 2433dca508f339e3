import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from '../users/user.entity.js';
import { ApiKey } from './api-key.entity.js';

@ObjectType('Viewer', {
  description: 'The caller: its API key and, where the key has them, its user and tenant.',
})
export class ViewerPayload {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => User, { nullable: true })
  user!: User | null;

  @Field(() => Tenant, { nullable: true })
  tenant!: Tenant | null;
}

@Resolver()
export class ViewerResolver {
  /** Needs no scope: any valid key may ask who it is. */
  @Query(() => ViewerPayload)
  async viewer(@Ctx() context: GraphQLContext): Promise<ViewerPayload> {
    const apiKey = await context.em.findOneOrFail(ApiKey, viewerOf(context).apiKeyId);
    const [user, tenant] = await Promise.all([apiKey.user?.load() ?? null, apiKey.tenant?.load() ?? null]);
    return { apiKey, user: user ?? null, tenant: tenant ?? null };
  }
}
