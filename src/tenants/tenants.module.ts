import type { FeatureModule } from '../graphql/feature-module.js';
import { resolveTenantReference } from './tenant.reference.js';
import { TenantResolver } from './tenant.resolver.js';

export const tenantsModule = {
  resolvers: [TenantResolver],
  references: { Tenant: resolveTenantReference },
} satisfies FeatureModule;
