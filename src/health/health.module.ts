import type { FeatureModule } from '../graphql/feature-module.js';
import { createHealthLoaders, type HealthLoaders } from './health.loaders.js';
import { HealthHistoryResolver } from './health-history.resolver.js';

export const healthModule = {
  resolvers: [HealthHistoryResolver],
  createLoaders: createHealthLoaders,
} satisfies FeatureModule<HealthLoaders>;
