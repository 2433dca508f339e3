import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY_TOPICS } from '../src/auth/api-key.events.js';
import { createLogger } from '../src/logger.js';
import { createEventBus, type EventBus } from '../src/pubsub/pubsub.js';
import { startTestApp } from './support/app.js';
import { createTestDatabase, redisAvailable } from './support/database.js';
import { REDIS_URL } from './support/services.js';

// Topics of these tests only, unique per run: Redis is shared with every other test running meanwhile.
declare module '../src/pubsub/event-topics.js' {
  interface EventTopics {
    [topic: `test-${string}`]: Record<string, unknown>;
  }
}

const log = createLogger('silent');
const buses: EventBus[] = [];

afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
});

async function readyBus(): Promise<EventBus> {
  const bus = createEventBus(REDIS_URL, log);
  buses.push(bus);
  for (let attempt = 0; attempt < 50 && !bus.isReady(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return bus;
}

async function firstEvent(bus: EventBus, topic: `test-${string}`): Promise<unknown> {
  const iterator = bus.pubSub.subscribe(topic)[Symbol.asyncIterator]();
  const next = iterator.next();
  return next.then((result) => result.value);
}

/** Waits until Redis reports a subscriber on the channel, so the publish cannot race the SUBSCRIBE. */
async function untilSubscribed(channel: string): Promise<void> {
  const probe = new Redis(REDIS_URL);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const [, count] = (await probe.pubsub('NUMSUB', channel)) as [string, number];
      if (count > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`nobody subscribed to ${channel}`);
  } finally {
    probe.disconnect();
  }
}

describe.skipIf(!redisAvailable())('event bus on Redis', () => {
  it('delivers an event published by one instance to subscribers of another', async () => {
    const [instanceA, instanceB] = [await readyBus(), await readyBus()];
    expect(instanceA.kind).toBe('redis');
    const topic = `test-${Date.now()}` as const;
    const received = firstEvent(instanceB, topic);
    await untilSubscribed(topic);
    instanceA.pubSub.publish(topic, { serverId: 'a', version: 1 });
    expect(await received).toEqual({ serverId: 'a', version: 1 });
  });

  it('is what the API uses when REDIS_URL is set, and readiness says so', async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db.target, { REDIS_URL });
    try {
      const ready = await fetch(`${app.origin}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', eventBus: 'redis' });
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe('event bus in-process', () => {
  it('delivers events within the process when no REDIS_URL is set', async () => {
    const bus = createEventBus(undefined, log);
    const received = firstEvent(bus, 'test-local');
    bus.pubSub.publish('test-local', { ok: true });
    expect(await received).toEqual({ ok: true });
  });
});

describe('event topics', () => {
  it('carry the event their feature declared: a subscriber gets what the publisher sent, typed', async () => {
    const bus = createEventBus(undefined, log);
    buses.push(bus);
    const iterator = bus.pubSub.subscribe(API_KEY_TOPICS.apiKeyChanged)[Symbol.asyncIterator]();
    const next = iterator.next();
    bus.pubSub.publish(API_KEY_TOPICS.apiKeyChanged, { apiKeyId: 'key-1' });
    const { value } = await next;
    // Typed as ApiKeyChangedEvent: no cast between the bus and the subscriber.
    expect(value.apiKeyId).toBe('key-1');
    await iterator.return?.();
    // @ts-expect-error an event of another topic is refused by the type checker (`npm test` runs tsc).
    bus.pubSub.publish(API_KEY_TOPICS.apiKeyChanged, { serverId: 'x' });
  });
});
