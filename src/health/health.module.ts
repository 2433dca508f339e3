import type { FeatureModule } from '../graphql/feature-module.js';
import { CircuitBreakerResolver } from './circuit-breaker.resolver.js';
import { createHealthLoaders, type HealthLoaders } from './health.loaders.js';
import { HealthSubscriptionResolver } from './health.subscriptions.js';
import { HealthCheckResolver } from './health-check.resolver.js';
import { HealthHistoryResolver } from './health-history.resolver.js';

export const healthModule = {
  resolvers: [HealthHistoryResolver, HealthSubscriptionResolver, CircuitBreakerResolver, HealthCheckResolver],
  createLoaders: createHealthLoaders,
} satisfies FeatureModule<HealthLoaders>;
