import type { FeatureModule } from '../graphql/feature-module.js';
import { ApiKeyResolver } from './api-key.resolver.js';
import { ViewerResolver } from './viewer.resolver.js';

export const authModule = {
  resolvers: [ViewerResolver, ApiKeyResolver],
} satisfies FeatureModule;
