import type { FeatureModule } from '../graphql/feature-module.js';
import { AuditLogUserResolver } from './audit-log-user.resolver.js';
import { TenantUserCountResolver } from './tenant-user-count.resolver.js';
import { UserResolver } from './user.resolver.js';
import { createUserLoaders, type UserLoaders } from './users.loaders.js';

export const usersModule = {
  resolvers: [UserResolver, TenantUserCountResolver, AuditLogUserResolver],
  createLoaders: createUserLoaders,
} satisfies FeatureModule<UserLoaders>;
