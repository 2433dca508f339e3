import type { FeatureModule } from '../graphql/feature-module.js';
import { TenantUserCountResolver } from './tenant-user-count.resolver.js';
import { UserResolver } from './user.resolver.js';
import { createUserLoaders, type UserLoaders } from './users.loaders.js';

export const usersModule = {
  resolvers: [UserResolver, TenantUserCountResolver],
  createLoaders: createUserLoaders,
} satisfies FeatureModule<UserLoaders>;
