import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import type { ServerRow } from '../registry/registry.loaders.js';
import { missingCredentials } from './registry-import.loaders.js';
import { importRegistryServers } from './registry-import.service.js';
import { ImportRegistryServersInput, RegistryImportResult, ServerUpstream } from './registry-import.types.js';

@Resolver()
export class RegistryImportResolver {
  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => RegistryImportResult, {
    description:
      'Imports the servers of an MCP registry (its /v0.1/servers) into a tenant; a second run asks only for what changed.',
  })
  importRegistryServers(
    @Ctx() context: GraphQLContext,
    @Arg('input') input: ImportRegistryServersInput,
  ): Promise<RegistryImportResult> {
    const { config, keyring } = context;
    return importRegistryServers(context.em, actorOf(context), viewerOf(context), input, {
      circuit: config.circuit,
      discoveryTimeoutMs: config.health.timeoutMs,
      allowStdio: config.health.allowStdio,
      keyring,
      fetchTimeoutMs: config.registryImport.timeoutMs,
    });
  }
}

/** Adds where imported servers came from to MCPServer: this feature owns the provenance. */
@Resolver(() => MCPServer)
export class ServerUpstreamResolver {
  @FieldResolver(() => ServerUpstream, {
    nullable: true,
    description: 'The registry entry this server was imported from; null for servers registered here.',
  })
  async upstream(@Root() server: ServerRow, @Ctx() context: GraphQLContext): Promise<ServerUpstream | null> {
    return (await context.loaders.importByServer.load(server.id))?.upstream ?? null;
  }

  @FieldResolver(() => [String], {
    description:
      'Headers the upstream entry requires that have no stored value ("needs credentials"): set them with updateServer.',
  })
  async missingCredentials(@Root() server: ServerRow, @Ctx() context: GraphQLContext): Promise<string[]> {
    const found = await context.loaders.importByServer.load(server.id);
    return found === null ? [] : missingCredentials(found, context.keyring);
  }
}
