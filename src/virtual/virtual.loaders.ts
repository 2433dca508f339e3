import type DataLoader from 'dataloader';
import { manyLoader } from '../db/loaders.js';
import type { EntityManager } from '../db/orm.js';
import { VirtualServerMember } from './virtual-server-member.entity.js';

export interface VirtualLoaders {
  /**
   * The members of each virtual server in their order: one statement per batch. Members whose server the
   * request may not see (a key limited by `allowedServers`) are left out by the tenant filter.
   */
  readonly membersByVirtualServer: DataLoader<string, VirtualServerMember[]>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends VirtualLoaders {}
}

export function createVirtualLoaders(em: EntityManager): VirtualLoaders {
  return {
    membersByVirtualServer: manyLoader(em, VirtualServerMember, 'virtualServer', { position: 'ASC' }),
  };
}
