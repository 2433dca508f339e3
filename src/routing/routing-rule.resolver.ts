import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actorOf } from '../audit/audit-trail.js';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { CallToolInput, CallToolResult, CreateRoutingRuleInput } from './routing.inputs.js';
import { RoutingRule } from './routing-rule.entity.js';
import { createRoutingRule, deleteRoutingRule, listRoutingRules } from './routing-rule.service.js';
import { callToolThroughGateway } from './tool-call.service.js';

@Resolver(() => RoutingRule)
export class RoutingRuleResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => [RoutingRule], { description: "The caller's routing rules, highest priority first." })
  routingRules(@Ctx() context: GraphQLContext): Promise<RoutingRule[]> {
    return listRoutingRules(context.em);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => RoutingRule, {
    description: "Routes the tenant's calls that match `conditions` to the target servers.",
  })
  createRoutingRule(
    @Ctx() context: GraphQLContext,
    @Arg('input') input: CreateRoutingRuleInput,
  ): Promise<RoutingRule> {
    return createRoutingRule(context.em, actorOf(context), viewerOf(context), input);
  }

  @Authorized(ApiKeyScope.WRITE)
  @Mutation(() => Boolean, { description: 'Deletes a routing rule; calls it matched fall to the next rule.' })
  deleteRoutingRule(@Ctx() context: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return deleteRoutingRule(context.em, actorOf(context), viewerOf(context), id);
  }

  @FieldResolver(() => [MCPServer], {
    description: 'The servers the rule sends calls to (those the caller may see), by name.',
  })
  async targetServers(@Root() rule: RoutingRule, @Ctx() context: GraphQLContext): Promise<MCPServer[]> {
    const targets = await context.loaders.targetsByRule.load(rule.id);
    return targets.map((target) => target.server.getEntity());
  }
}

@Resolver()
export class ToolCallResolver {
  @Authorized(ApiKeyScope.PROXY)
  @Mutation(() => CallToolResult, {
    description:
      'Routes a tool call to a healthy server that has the tool, skipping open circuits and failing over; ' +
      'the call is counted and logged.',
  })
  callTool(@Ctx() context: GraphQLContext, @Arg('input') input: CallToolInput): Promise<CallToolResult> {
    return callToolThroughGateway(
      context.em,
      {
        viewer: viewerOf(context),
        actor: actorOf(context),
        keyring: context.keyring,
        pubSub: context.eventBus.pubSub,
        health: context.config.health,
        gateway: context.config.gateway,
        upstreams: context.upstreams,
        callFigures: context.callFigures,
        routingRules: context.routingRules,
        metrics: context.metrics,
      },
      input,
    );
  }
}
