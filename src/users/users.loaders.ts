import type DataLoader from 'dataloader';
import { countLoader } from '../db/loaders.js';
import type { EntityManager } from '../db/orm.js';
import { User } from './user.entity.js';

export interface UserLoaders {
  /** Number of users per tenant id. */
  readonly userCountByTenant: DataLoader<string, number>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends UserLoaders {}
}

export function createUserLoaders(em: EntityManager): UserLoaders {
  return { userCountByTenant: countLoader(em, User, 'tenant') };
}
