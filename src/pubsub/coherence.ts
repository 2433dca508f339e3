import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { EventTopic, EventTopics } from './event-topics.js';

/**
 * What in-process caches of database rows lean on to stay coherent across a fleet: every instance hears every
 * change on the topics it watches, or knows that it may not have. A cache keeps an entry only while `epoch()`
 * returns the number it returned when the entry was read; `null` means "use no cache now" (Redis is away, or
 * the watch is not confirmed yet). The epoch moves whenever events could have been lost (a dropped
 * connection), so what was cached before that is never trusted again.
 */
export interface Coherence {
  /** The current epoch, or `null` while an event on a watched topic might not reach this instance. */
  epoch(): number | null;
  /**
   * Calls `listener` with every event of `topic`, from any instance: synchronously for events published by
   * this process (before `publish` returns), as soon as they arrive for the others'.
   */
  watch<Topic extends EventTopic>(topic: Topic, listener: (event: EventTopics[Topic]) => void): void;
  /** Hands an event published by this process to its watchers (the event bus calls it on every publish). */
  deliverLocally(topic: string, event: unknown): void;
  /**
   * Resolves once what this process published so far has been passed on by Redis to every instance's
   * connection, or after `timeoutMs`; at once in-process. A change that must be refused on the very next
   * request anywhere (a revoked key) waits for this before it answers.
   */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Listener = (event: unknown) => void;

class Watchers {
  private readonly byTopic = new Map<string, Set<Listener>>();

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /** Returns whether the topic is new. */
  add(topic: string, listener: Listener): boolean {
    const listeners = this.byTopic.get(topic);
    if (listeners !== undefined) {
      listeners.add(listener);
      return false;
    }
    this.byTopic.set(topic, new Set([listener]));
    return true;
  }

  deliver(topic: string, event: unknown): void {
    for (const listener of this.byTopic.get(topic) ?? []) listener(event);
  }
}

/** One process is the whole fleet: every event is delivered synchronously, nothing is ever lost. */
export function inProcessCoherence(): Coherence {
  const watchers = new Watchers();
  return {
    epoch: () => 0,
    watch: (topic, listener) => {
      watchers.add(topic, listener as Listener);
    },
    deliverLocally: (topic, event) => watchers.deliver(topic, event),
    settled: async () => {},
    close: async () => {},
  };
}

/**
 * Over Redis: a subscriber connection of its own (the event bus's subscriber drops a topic when its last
 * GraphQL subscription ends, which must not silence a cache), opened at the first watch. The epoch is known
 * only while that connection is ready and has confirmed its subscription to every watched topic since it last
 * connected, and while the publishing connection is ready (else this instance's own changes would not reach
 * the others).
 */
export function redisCoherence(
  redisUrl: string,
  options: RedisOptions,
  publishClient: Redis,
  log: Logger,
): Coherence {
  const watchers = new Watchers();
  let subscriber: Redis | undefined;
  let generation = 0;
  let confirmed = false;
  // `settled` publishes a token here and waits for this instance's subscriber to hear it back.
  const echoChannel = `coherence.echo.${randomUUID()}`;
  const echoes = new Map<string, () => void>();

  let closing = false;
  const lose = () => {
    // Closing at shutdown is not a lost bus.
    if (confirmed && !closing)
      log.info('cache coherence lost: caches are bypassed until the event bus is back');
    confirmed = false;
    generation += 1;
  };
  const confirm = (client: Redis) => {
    if (client.status !== 'ready') return;
    const attempt = generation;
    client
      .subscribe(...watchers.topics, echoChannel)
      .then(() => {
        if (attempt === generation && client.status === 'ready') confirmed = true;
      })
      .catch((error: unknown) => {
        log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'cache watch not confirmed',
        );
      });
  };
  const open = (): Redis => {
    const client = new Redis(redisUrl, options);
    client.on('error', (error: Error) =>
      log.warn({ role: 'coherence', err: error.message }, 'redis connection error'),
    );
    client.on('ready', () => confirm(client));
    for (const event of ['close', 'reconnecting', 'end']) client.on(event, lose);
    client.on('message', (topic: string, message: string) => {
      if (topic === echoChannel) {
        echoes.get(message)?.();
        return;
      }
      let event: unknown;
      try {
        event = message === '' ? null : JSON.parse(message);
      } catch {
        return;
      }
      watchers.deliver(topic, event);
    });
    return client;
  };

  return {
    epoch: () => (confirmed && publishClient.status === 'ready' ? generation : null),
    watch: (topic, listener) => {
      if (!watchers.add(topic, listener as Listener)) return;
      // Not trusted until the new topic is confirmed as well.
      lose();
      if (subscriber === undefined) subscriber = open();
      else confirm(subscriber);
    },
    deliverLocally: (topic, event) => watchers.deliver(topic, event),
    settled: async (timeoutMs = 1000) => {
      // Redis runs one connection's commands in order, and hands a message to every subscriber before it
      // runs the next: once this instance's subscriber hears a token published after our earlier events,
      // those were written to every other instance's connection before it, so the next request, wherever it
      // lands, comes in after them. Without a confirmed subscriber, PING's answer (after every earlier
      // PUBLISH) is the most there is to wait for.
      const token = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const heardOrTimedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        echoes.set(token, resolve);
      });
      const passedOn =
        subscriber !== undefined && confirmed
          ? publishClient.publish(echoChannel, token).then(() => heardOrTimedOut)
          : publishClient.ping();
      await Promise.race([passedOn.catch(() => {}), heardOrTimedOut]);
      clearTimeout(timer);
      echoes.delete(token);
    },
    close: async () => {
      closing = true;
      lose();
      await subscriber?.quit().catch(() => {});
    },
  };
}
