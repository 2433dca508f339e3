import type { FeatureModule } from '../graphql/feature-module.js';
import { AnalyticsResolver, TenantUsageSummaryResolver } from './analytics.resolver.js';

export const analyticsModule = {
  resolvers: [AnalyticsResolver, TenantUsageSummaryResolver],
} satisfies FeatureModule;
