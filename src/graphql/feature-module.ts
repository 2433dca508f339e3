import type { ClassType } from 'type-graphql';
import type { EntityManager } from '../db/orm.js';
import type { GraphQLContext } from './context.js';

/**
 * What a feature contributes to the API: its resolvers and the request-scoped loaders they use. The
 * composition root (src/modules.ts) collects every module; a feature adds a resolver or loader by
 * editing only its own module file.
 */
export interface FeatureModule<Loaders extends object = object> {
  readonly resolvers: readonly ClassType[];
  /**
   * Federation: how a router's `{ __typename, id }` representation becomes this feature's entity, per type
   * name. Answers null for ids the viewer may not see, exactly as for unknown ids.
   */
  readonly references?: Readonly<Record<string, ReferenceResolver>>;
  /**
   * Builds this feature's DataLoaders for one request (or one subscription event), on the request's
   * EntityManager: its tenant scope limits what they load and count.
   */
  readonly createLoaders?: (em: EntityManager) => Loaders;
}

export type ReferenceResolver = (
  reference: { id: string },
  context: GraphQLContext,
) => Promise<object | null>;
