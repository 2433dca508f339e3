import type { ClassType } from 'type-graphql';
import type { EntityManager } from '../db/orm.js';

/**
 * What a feature contributes to the API: its resolvers and the request-scoped loaders they use. The
 * composition root (src/modules.ts) collects every module; a feature adds a resolver or loader by
 * editing only its own module file.
 */
export interface FeatureModule<Loaders extends object = object> {
  readonly resolvers: readonly ClassType[];
  /** Builds this feature's DataLoaders for one request (or one subscription event). */
  readonly createLoaders?: (em: EntityManager) => Loaders;
}
