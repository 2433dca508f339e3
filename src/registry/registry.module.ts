import type { FeatureModule } from '../graphql/feature-module.js';
import { createRegistryLoaders, type RegistryLoaders } from './registry.loaders.js';
import { resolveServerReference, resolveToolReference } from './server.reference.js';
import { ServerResolver, TenantServerCountResolver } from './server.resolver.js';

export const registryModule = {
  resolvers: [ServerResolver, TenantServerCountResolver],
  createLoaders: createRegistryLoaders,
  references: { MCPServer: resolveServerReference, ServerTool: resolveToolReference },
} satisfies FeatureModule<RegistryLoaders>;
