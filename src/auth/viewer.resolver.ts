import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from '../users/user.entity.js';
import { ApiKey } from './api-key.entity.js';

@ObjectType('Viewer', {
  simpleResolvers: true,
  description:
    'The caller: its API key (none for a user signed in with an access token) and, where it has them, its user and tenant.',
})
export class ViewerPayload {
  @Field(() => ApiKey, { nullable: true })
  apiKey!: ApiKey | null;

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
    const viewer = viewerOf(context);
    if (viewer.apiKeyId === null) {
      const { em } = context;
      const [user, tenant] = await Promise.all([
        viewer.userId === null ? null : em.findOne(User, viewer.userId),
        viewer.tenantId === null ? null : em.findOne(Tenant, viewer.tenantId),
      ]);
      return { apiKey: null, user, tenant };
    }
    // The key's tenant is the scope's own, so it is joined; a user is read apart, where its tenant filter holds
    // (a join would only filter the user's tenant, not the user).
    const apiKey = await context.em.findOneOrFail(ApiKey, viewer.apiKeyId, {
      populate: ['tenant'],
      strategy: 'joined',
    });
    const user = (await apiKey.user?.load()) ?? null;
    return { apiKey, user, tenant: apiKey.tenant?.getEntity() ?? null };
  }
}
