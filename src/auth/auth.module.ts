import type { FeatureModule } from '../graphql/feature-module.js';
import { ViewerResolver } from './viewer.resolver.js';

export const authModule = {
  resolvers: [ViewerResolver],
} satisfies FeatureModule;
