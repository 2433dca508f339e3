import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { selectedFieldNames, selectedPlainFieldNames } from '../graphql/selection.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { CircuitBreaker } from './circuit-breaker.entity.js';
import { MCPServer } from './mcp-server.entity.js';
import type {
  CircuitBreakerRow,
  ServerResourceRow,
  ServerRow,
  ServerToolRow,
  TenantRow,
} from './registry.loaders.js';
import { RegisterServerInput, ServerFilter, ServerOrder, UpdateServerInput } from './server.inputs.js';
import {
  deleteServer,
  findVisibleServer,
  listServers,
  type RegistrySettings,
  refreshServerCapabilities,
  registerServer,
  updateServer,
} from './server.service.js';
import { ServerPrompt } from './server-prompt.entity.js';
import { ServerResource } from './server-resource.entity.js';
import { ServerTool } from './server-tool.entity.js';

const ServerConnection = ConnectionType('MCPServer', MCPServer);

const registrySettings = ({ config, keyring }: GraphQLContext): RegistrySettings => ({
  circuit: config.circuit,
  discoveryTimeoutMs: config.health.timeoutMs,
  allowStdio: config.health.allowStdio,
  keyring,
});

@Resolver(() => MCPServer)
export class ServerResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => MCPServer, { description: "One server by id; another tenant's server is NOT_FOUND." })
  server(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<MCPServer> {
    return findVisibleServer(context.em, id);
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => ServerConnection, {
    description: 'Servers the caller may see, filtered and ordered (default: by name).',
  })
  servers(
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => ServerFilter, { nullable: true }) filter?: ServerFilter | null,
    @Arg('orderBy', () => ServerOrder, { nullable: true }) orderBy?: ServerOrder | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<ServerRow>> {
    return listServers(context.em, context.loaders, filter, orderBy, pageRequest(first, after), {
      countAll: selectedFieldNames(info).has('totalCount'),
      selection: {
        server: selectedFieldNames(info, ['edges', 'node']),
        tenant: selectedPlainFieldNames(info, ['edges', 'node', 'tenant']),
        circuitBreaker: selectedPlainFieldNames(info, ['edges', 'node', 'circuitBreaker']),
        tools: selectedPlainFieldNames(info, ['edges', 'node', 'tools']),
        resources: selectedPlainFieldNames(info, ['edges', 'node', 'resources']),
      },
    });
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => MCPServer)
  registerServer(
    @Ctx() context: GraphQLContext,
    @Arg('input') input: RegisterServerInput,
  ): Promise<MCPServer> {
    return registerServer(context.em, actorOf(context), viewerOf(context), input, registrySettings(context));
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => MCPServer)
  updateServer(
    @Ctx() context: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateServerInput,
  ): Promise<MCPServer> {
    return updateServer(context.em, actorOf(context), viewerOf(context), id, input, context.keyring);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => MCPServer, { description: 'Reads the tools, resources and prompts the server offers now.' })
  refreshServerCapabilities(
    @Ctx() context: GraphQLContext,
    @Arg('id', () => ID) id: string,
  ): Promise<MCPServer> {
    return refreshServerCapabilities(context.em, actorOf(context), id, registrySettings(context));
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => Boolean, { description: 'Deletes the server with everything the registry knows about it.' })
  deleteServer(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return deleteServer(context.em, actorOf(context), id);
  }

  // The relations a list page read come back as they are, not wrapped in a promise: a page of 100 servers
  // resolves 400 of them, and the executor takes a plain value without waiting for a microtask.
  @FieldResolver(() => Tenant)
  tenant(
    @Root() server: ServerRow,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): TenantRow | Promise<TenantRow> {
    const listed = context.loaders.listedTenants.get(server.tenant.id, selectedFieldNames(info));
    if (listed) return visibleTenant(server, listed[0] ?? null);
    return context.loaders.tenantById.load(server.tenant.id).then((tenant) => visibleTenant(server, tenant));
  }

  @FieldResolver(() => [ServerTool])
  tools(
    @Root() server: ServerRow,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): ServerToolRow[] | Promise<ServerToolRow[]> {
    return (
      context.loaders.listedTools.get(server.id, selectedFieldNames(info)) ??
      context.loaders.toolsByServer.load(server.id)
    );
  }

  @FieldResolver(() => [ServerResource])
  resources(
    @Root() server: ServerRow,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): ServerResourceRow[] | Promise<ServerResourceRow[]> {
    return (
      context.loaders.listedResources.get(server.id, selectedFieldNames(info)) ??
      context.loaders.resourcesByServer.load(server.id)
    );
  }

  @FieldResolver(() => [ServerPrompt])
  prompts(@Root() server: ServerRow, @Ctx() context: GraphQLContext): Promise<ServerPrompt[]> {
    return context.loaders.promptsByServer.load(server.id);
  }

  @FieldResolver(() => CircuitBreaker, { nullable: true })
  circuitBreaker(
    @Root() server: ServerRow,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): CircuitBreakerRow | null | Promise<CircuitBreakerRow | null> {
    const listed = context.loaders.listedCircuitBreakers.get(server.id, selectedFieldNames(info));
    return listed ? (listed[0] ?? null) : context.loaders.circuitBreakerByServer.load(server.id);
  }
}

/** A server is visible only inside its tenant's scope, so its tenant is too. */
function visibleTenant(server: ServerRow, tenant: TenantRow | null): TenantRow {
  if (tenant === null) throw new Error(`Tenant ${server.tenant.id} of server ${server.id} is not visible`);
  return tenant;
}

/** Adds `serverCount` to Tenant: the registry owns servers, so it answers how many a tenant has. */
@Resolver(() => Tenant)
export class TenantServerCountResolver {
  @FieldResolver(() => Int)
  serverCount(@Root() tenant: Tenant, @Ctx() context: GraphQLContext): Promise<number> {
    return context.loaders.serverCountByTenant.load(tenant.id);
  }
}
