import { Arg, Authorized, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { ApiKey } from './api-key.entity.js';
import { CreateApiKeyInput } from './api-key.inputs.js';
import { createApiKey, listApiKeys, revokeApiKey, unlockApiKey } from './api-key.service.js';

const ApiKeyConnection = ConnectionType('ApiKey', ApiKey);

@ObjectType({
  simpleResolvers: true,
  description: 'A new key: the plaintext `key` is shown here once and never again.',
})
export class CreateApiKeyPayload {
  @Field()
  key!: string;

  @Field(() => ApiKey)
  apiKey!: ApiKey;
}

/**
 * Every key operation needs WRITE (own tenant's keys) or ADMIN (every key), listing included: see
 * `manageableKeys` in api-key.service.ts for why READ is not enough. A signed-in user needs the ADMIN role of
 * its tenant besides (`requireTenantManagement`): a USER's WRITE is for the registry, not for credentials.
 */
@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Authorized(ApiKeyScope.WRITE)
  @Query(() => ApiKeyConnection, {
    description:
      "API keys, newest first: every key for platform admins, your tenant's with WRITE (signed in: as its ADMIN).",
  })
  apiKeys(
    @Ctx() context: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<ApiKey>> {
    return listApiKeys(context.em, viewerOf(context), pageRequest(first, after));
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => CreateApiKeyPayload)
  createApiKey(
    @Ctx() context: GraphQLContext,
    @Arg('input') input: CreateApiKeyInput,
  ): Promise<CreateApiKeyPayload> {
    return createApiKey(context.em, actorOf(context), viewerOf(context), input);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => ApiKey, { description: 'Revokes a key for good; its next request is UNAUTHENTICATED.' })
  async revokeApiKey(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    const key = await revokeApiKey(context.em, actorOf(context), viewerOf(context), id);
    // Its commit announced it (api-key-changes.ts); answered once every instance can have heard.
    await context.eventBus.coherence.settled();
    return key;
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => ApiKey, { description: 'Lifts a lockout after failed attempts and resets the count.' })
  unlockApiKey(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    return unlockApiKey(context.em, actorOf(context), viewerOf(context), id);
  }
}
