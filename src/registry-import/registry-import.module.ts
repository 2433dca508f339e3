import type { FeatureModule } from '../graphql/feature-module.js';
import { createRegistryImportLoaders, type RegistryImportLoaders } from './registry-import.loaders.js';
import { RegistryImportResolver, ServerUpstreamResolver } from './registry-import.resolver.js';

/** Imports from upstream MCP registries (their /v0.1 API) and the provenance of imported servers. */
export const registryImportModule = {
  resolvers: [RegistryImportResolver, ServerUpstreamResolver],
  createLoaders: createRegistryImportLoaders,
} satisfies FeatureModule<RegistryImportLoaders>;
