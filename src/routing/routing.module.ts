import type { FeatureModule } from '../graphql/feature-module.js';
import { createRoutingLoaders, type RoutingLoaders } from './routing.loaders.js';
import { RoutingRuleResolver, ToolCallResolver } from './routing-rule.resolver.js';

export const routingModule = {
  resolvers: [RoutingRuleResolver, ToolCallResolver],
  createLoaders: createRoutingLoaders,
} satisfies FeatureModule<RoutingLoaders>;
