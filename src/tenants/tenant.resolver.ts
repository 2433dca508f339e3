import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { registryNamespaceOf } from './registry-namespace.js';
import { Tenant } from './tenant.entity.js';
import { CreateTenantInput, UpdateTenantInput } from './tenant.inputs.js';
import { createTenant, listTenants, updateTenant } from './tenant.service.js';

const TenantConnection = ConnectionType('Tenant', Tenant);

@Resolver(() => Tenant)
export class TenantResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => TenantConnection, {
    description: 'Tenants: every tenant for platform admins, your own otherwise.',
  })
  tenants(
    @Ctx() context: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<Tenant>> {
    return listTenants(context.em, viewerOf(context), pageRequest(first, after));
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => Tenant)
  createTenant(@Ctx() context: GraphQLContext, @Arg('input') input: CreateTenantInput): Promise<Tenant> {
    return createTenant(context.em, actorOf(context), input, context.config.registryNamespaceBase);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => Tenant, { description: 'Changing `status` needs a platform admin key.' })
  updateTenant(
    @Ctx() context: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateTenantInput,
  ): Promise<Tenant> {
    return updateTenant(
      context.em,
      actorOf(context),
      viewerOf(context),
      id,
      input,
      context.config.registryNamespaceBase,
    );
  }

  @FieldResolver(() => String, {
    description:
      'The namespace the MCP Registry API (/v0.1/servers) lists this tenant servers under: the chosen one, or ' +
      'the one derived from the tenant name.',
  })
  registryNamespace(@Root() tenant: Tenant, @Ctx() context: GraphQLContext): string {
    return registryNamespaceOf(context.config.registryNamespaceBase, tenant);
  }
}
