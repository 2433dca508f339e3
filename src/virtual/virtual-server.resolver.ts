import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import type { MCPServer } from '../registry/mcp-server.entity.js';
import {
  CreateVirtualServerInput,
  UpdateVirtualServerInput,
  VirtualServerMemberView,
  VirtualTool,
} from './virtual.inputs.js';
import { virtualServerEndpointUrl } from './virtual-endpoint.js';
import { VirtualServer } from './virtual-server.entity.js';
import {
  createVirtualServer,
  deleteVirtualServer,
  findVisibleVirtualServer,
  listVirtualServers,
  updateVirtualServer,
} from './virtual-server.service.js';
import { exposeTools } from './virtual-tools.js';

const VirtualServerConnection = ConnectionType('VirtualServer', VirtualServer);

/** The members the request may see, each with its server (one statement per batch for each). */
async function membersOf(virtualServer: VirtualServer, context: GraphQLContext) {
  const members = await context.loaders.membersByVirtualServer.load(virtualServer.id);
  const servers = await Promise.all(members.map((member) => member.server.load()));
  return members.map((member, index) => ({ member, server: servers[index] as MCPServer }));
}

@Resolver(() => VirtualServer)
export class VirtualServerResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => VirtualServerConnection, { description: "The caller's virtual servers, by name." })
  virtualServers(
    @Ctx() context: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<VirtualServer>> {
    return listVirtualServers(context.em, pageRequest(first, after));
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => VirtualServer)
  virtualServer(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<VirtualServer> {
    return findVisibleVirtualServer(context.em, id);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => VirtualServer, {
    description: 'Serves tools of several registered servers to agents as one.',
  })
  createVirtualServer(
    @Ctx() context: GraphQLContext,
    @Arg('input') input: CreateVirtualServerInput,
  ): Promise<VirtualServer> {
    return createVirtualServer(context.em, actorOf(context), viewerOf(context), input);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => VirtualServer)
  updateVirtualServer(
    @Ctx() context: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateVirtualServerInput,
  ): Promise<VirtualServer> {
    return updateVirtualServer(context.em, actorOf(context), viewerOf(context), id, input);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => Boolean)
  deleteVirtualServer(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return deleteVirtualServer(context.em, actorOf(context), viewerOf(context), id);
  }

  @FieldResolver(() => String, { description: 'The absolute URL agents connect their MCP client to.' })
  endpointUrl(@Root() virtualServer: VirtualServer, @Ctx() context: GraphQLContext): string {
    return virtualServerEndpointUrl(context.publicOrigin, virtualServer.id);
  }

  @FieldResolver(() => [VirtualServerMemberView])
  async members(
    @Root() virtualServer: VirtualServer,
    @Ctx() context: GraphQLContext,
  ): Promise<VirtualServerMemberView[]> {
    return (await membersOf(virtualServer, context)).map(({ member, server }) => ({
      server,
      toolNames: member.toolNames,
      prefix: member.prefix,
    }));
  }

  @FieldResolver(() => [VirtualTool], {
    description: "What an agent's tools/list shows, by name, from the registry (no upstream is contacted).",
  })
  async tools(@Root() virtualServer: VirtualServer, @Ctx() context: GraphQLContext): Promise<VirtualTool[]> {
    const members = await membersOf(virtualServer, context);
    const tools = await context.loaders.toolsByServer.loadMany(members.map(({ server }) => server.id));
    const servers = new Map(members.map(({ server }) => [server.id, server]));
    const { tools: exposed } = exposeTools(
      virtualServer.toolNaming,
      members.map(({ member, server }, index) => {
        const found = tools[index];
        return {
          serverId: server.id,
          serverName: server.name,
          prefix: member.prefix,
          toolNames: member.toolNames,
          overrides: member.overrides,
          tools: found instanceof Error || found === undefined ? [] : found,
        };
      }),
    );
    return exposed.map((tool) => ({
      name: tool.name,
      description: tool.description,
      toolName: tool.toolName,
      server: servers.get(tool.serverId) as MCPServer,
      toolSchema: (tool.toolSchema ?? null) as VirtualTool['toolSchema'],
    }));
  }
}
