import type { FeatureModule } from '../graphql/feature-module.js';
import { createVirtualLoaders, type VirtualLoaders } from './virtual.loaders.js';
import { VirtualServerResolver } from './virtual-server.resolver.js';

export const virtualModule = {
  resolvers: [VirtualServerResolver],
  createLoaders: createVirtualLoaders,
} satisfies FeatureModule<VirtualLoaders>;
