import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { actorOf, audited } from '../audit/audit-trail.js';
import { ApiKeyScope } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { badUserInput } from '../graphql/errors.js';
import { mcpTransportOf } from '../registry/capabilities.js';
import { loadConnectionHeaders } from '../registry/connection-headers.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { findVisibleServer } from '../registry/server.service.js';
import { checkServer } from './probe.js';

@Resolver(() => MCPServer)
export class HealthCheckResolver {
  @Authorized(ApiKeyScope.WRITE, ApiKeyScope.HEALTH)
  @Mutation(() => MCPServer, { description: 'Probes the server now and returns it with its updated health.' })
  async checkServerHealth(
    @Ctx() context: GraphQLContext,
    @Arg('id', () => ID) id: string,
  ): Promise<MCPServer> {
    const { em, eventBus, config, keyring } = context;
    const server = await findVisibleServer(em, id);
    if (mcpTransportOf(server.transportType, config.health.allowStdio) === null) {
      const unless = server.transportType === TransportType.STDIO ? ' unless ALLOW_STDIO=true' : '';
      throw badUserInput(`${server.transportType.toUpperCase()} servers are not probed${unless}.`, 'id');
    }
    const headers = await loadConnectionHeaders(em, keyring, server);
    // The probe runs outside any transaction; its result is recorded (and published) like a scheduled one.
    await checkServer(em.fork(), eventBus.pubSub, config.health, {
      serverId: server.id,
      endpointUrl: server.endpointUrl,
      transportType: server.transportType,
      headers,
    });
    const entry = { action: 'server.health_check', resourceType: 'server' };
    return audited(em, actorOf(context), entry, async (tx) => ({
      result: await tx.findOneOrFail(MCPServer, server.id, { refresh: true }),
      resourceId: server.id,
    }));
  }
}
