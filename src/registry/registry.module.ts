import type { FeatureModule } from '../graphql/feature-module.js';
import { createRegistryLoaders, type RegistryLoaders } from './registry.loaders.js';
import { ServerResolver, TenantServerCountResolver } from './server.resolver.js';

export const registryModule = {
  resolvers: [ServerResolver, TenantServerCountResolver],
  createLoaders: createRegistryLoaders,
} satisfies FeatureModule<RegistryLoaders>;
