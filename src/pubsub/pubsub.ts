import { setMaxListeners } from 'node:events';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from '@graphql-yoga/subscription';
import { Redis } from 'ioredis';
import type { PubSub } from 'type-graphql';
import type { Logger } from '../logger.js';
import { type Coherence, inProcessCoherence, redisCoherence } from './coherence.js';
import type { EventTopic, EventTopics } from './event-topics.js';

/** What publishing code is given: only topics the features declared, each with its own event. */
export interface EventPublisher {
  publish<Topic extends EventTopic>(topic: Topic, event: EventTopics[Topic]): void;
}

/** The bus as features use it; over Redis, an event arrives as its JSON (dates as ISO strings). */
export interface TypedPubSub extends EventPublisher {
  subscribe<Topic extends EventTopic>(topic: Topic): AsyncIterable<EventTopics[Topic]>;
}

/** The event bus subscriptions listen on: Redis when configured (every instance sees every event), else in-process. */
export interface EventBus {
  /** The bus as features publish and subscribe: each topic with its declared event. */
  readonly pubSub: TypedPubSub;
  readonly kind: 'redis' | 'in-process';
  /** Whether the bus can deliver right now (always true in-process). */
  isReady(): boolean;
  /**
   * Signals each time the bus has come back after losing Redis. Pub/sub is at-most-once, so whatever was
   * published meanwhile is gone: listeners reload current state from the database.
   */
  resyncs(): AsyncIterable<unknown>;
  /** What caches of database rows watch for invalidations (coherence.ts). */
  readonly coherence: Coherence;
  close(): Promise<void>;
}

const RESYNC = 'event-bus.resync';

/** Every subscription listens on its topic: thousands of listeners on one target are expected, not a leak. */
function subscriptionEventTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

export function createEventBus(redisUrl: string | undefined, log: Logger): EventBus {
  // Resync signals concern this process only, so they never travel through Redis.
  const local = createPubSub<{ [RESYNC]: [] }>({ eventTarget: subscriptionEventTarget() });
  const resyncs = () => local.subscribe(RESYNC);
  if (redisUrl === undefined) {
    const coherence = inProcessCoherence();
    const pubSub = createPubSub({ eventTarget: subscriptionEventTarget() });
    return {
      pubSub: typedPubSub(pubSub, coherence),
      kind: 'in-process',
      isReady: () => true,
      resyncs,
      coherence,
      close: async () => {},
    };
  }
  // A subscriber connection can only subscribe, so publishing needs a second one. Reconnects back off to 5 s.
  const options = { retryStrategy: (attempt: number) => Math.min(attempt * 200, 5000) };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  for (const [role, client] of [
    ['publish', publishClient],
    ['subscribe', subscribeClient],
  ] as const) {
    client.on('error', (error: Error) => log.warn({ role, err: error.message }, 'redis connection error'));
  }
  let connectedBefore = false;
  subscribeClient.on('ready', () => {
    log.info({ resync: connectedBefore }, 'redis subscriber ready');
    if (connectedBefore) local.publish(RESYNC);
    connectedBefore = true;
  });
  const pubSub = createPubSub({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  const coherence = redisCoherence(redisUrl, options, publishClient, log);
  return {
    pubSub: typedPubSub(pubSub, coherence),
    kind: 'redis',
    isReady: () => publishClient.status === 'ready' && subscribeClient.status === 'ready',
    resyncs,
    coherence,
    close: async () => {
      await coherence.close();
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/**
 * graphql-yoga's pub/sub, seen through the topics the features declared (yoga types topics as any string).
 * Every event published is also handed to this process's cache watchers at once, so a change invalidates the
 * caches of the instance that made it before its request is answered.
 */
function typedPubSub(pubSub: PubSub, coherence: Coherence): TypedPubSub {
  const publish: PubSub['publish'] = (routingKey, ...args) => {
    if (args.length === 1) coherence.deliverLocally(routingKey, args[0]);
    pubSub.publish(routingKey, ...args);
  };
  return { publish, subscribe: pubSub.subscribe.bind(pubSub) } as unknown as TypedPubSub;
}
