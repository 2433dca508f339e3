import { analyticsModule } from './analytics/analytics.module.js';
import { auditModule } from './audit/audit.module.js';
import { authModule } from './auth/auth.module.js';
import type { EntityManager } from './db/orm.js';
import type { RequestLoaders } from './graphql/context.js';
import type { FeatureModule } from './graphql/feature-module.js';
import { healthModule } from './health/health.module.js';
import { registryModule } from './registry/registry.module.js';
import { registryImportModule } from './registry-import/registry-import.module.js';
import { routingModule } from './routing/routing.module.js';
import { searchModule } from './search/search.module.js';
import { tenantsModule } from './tenants/tenants.module.js';
import { usersModule } from './users/users.module.js';
import { virtualModule } from './virtual/virtual.module.js';

/** Every feature of the API, in dependency order. */
export const modules: readonly FeatureModule[] = [
  authModule,
  tenantsModule,
  usersModule,
  registryModule,
  searchModule,
  healthModule,
  routingModule,
  virtualModule,
  registryImportModule,
  auditModule,
  analyticsModule,
];

/** The request-scoped loaders of every feature, built fresh for each request on its (tenant-scoped) EntityManager. */
export function createRequestLoaders(em: EntityManager): RequestLoaders {
  return {
    ...usersModule.createLoaders(em),
    ...registryModule.createLoaders(em),
    ...healthModule.createLoaders(em),
    ...routingModule.createLoaders(em),
    ...virtualModule.createLoaders(em),
    ...registryImportModule.createLoaders(em),
  };
}
