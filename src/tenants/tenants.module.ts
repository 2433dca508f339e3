import type { FeatureModule } from '../graphql/feature-module.js';
import { TenantResolver } from './tenant.resolver.js';

export const tenantsModule = {
  resolvers: [TenantResolver],
} satisfies FeatureModule;
