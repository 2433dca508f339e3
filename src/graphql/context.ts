import type { AppConfig } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { EntityManager } from '../db/orm.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus } from '../pubsub/pubsub.js';
import type { Viewer } from './access.js';

/**
 * Request-scoped DataLoaders. Empty here: each feature adds its own loaders by declaration merging
 * (`declare module '../graphql/context.js' { interface RequestLoaders { ... } }`), and the composition root
 * builds them per request.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the features through declaration merging.
export interface RequestLoaders {}

/** What every resolver receives. One per GraphQL request, and one per event of a subscription. */
export interface GraphQLContext {
  readonly requestId: string;
  /** A fork of the ORM's EntityManager, private to this request. */
  readonly em: EntityManager;
  /** `null` only before authentication; every resolver runs with a viewer. */
  readonly viewer: Viewer | null;
  readonly clientIp: string | null;
  /** This API's origin as clients reach it (PUBLIC_URL, or the listening address), for absolute URLs. */
  readonly publicOrigin: string;
  readonly loaders: RequestLoaders;
  readonly config: AppConfig;
  /** Seals and opens stored credentials. */
  readonly keyring: Keyring;
  /** Where live events are published and subscribed to. */
  readonly eventBus: EventBus;
  /** The process's Prometheus metrics. */
  readonly metrics: Metrics;
}
