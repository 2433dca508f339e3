import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LocalRateLimitStore,
  type RateLimit,
  type RateLimitStore,
  retryAfterMs,
} from '../src/auth/rate-limit.js';
import { RedisRateLimitStore } from '../src/auth/redis-rate-limit-store.js';
import { createLogger } from '../src/logger.js';
import { redisAvailable } from './support/database.js';
import { RedisProcess, redisServerInstalled } from './support/redis-process.js';
import { REDIS_URL } from './support/services.js';

const MINUTE = 60_000;
const perMinute = (limit: number): RateLimit => ({ name: 'perMinute', limit, windowMs: MINUTE });
const log = createLogger('silent');

/** Takes `count` requests at once and returns how many were admitted. */
async function burst(store: RateLimitStore, subject: string, limits: RateLimit[], count: number) {
  let admitted = 0;
  for (let i = 0; i < count; i++) if ((await store.take(subject, limits)).admitted) admitted++;
  return admitted;
}

/** What every store must do, whatever keeps its counters. */
function storeContract(name: string, open: () => Promise<RateLimitStore>) {
  describe(`${name}: the shared contract`, () => {
    let store: RateLimitStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store?.close());

    it('admits a burst up to the limit and refuses the next with the limit it broke', async () => {
      const subject = randomUUID();
      expect(await burst(store, subject, [perMinute(5)], 5)).toBe(5);
      const refused = await store.take(subject, [perMinute(5)]);
      expect(refused).toMatchObject({ admitted: false, limit: { name: 'perMinute', limit: 5 } });
      if (refused.admitted) return;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * MINUTE);
    });

    it('keeps subjects apart', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      expect(await burst(store, a, [perMinute(2)], 3)).toBe(2);
      expect(await burst(store, b, [perMinute(2)], 3)).toBe(2);
    });

    it('counts nothing when a request is refused, on any of its limits', async () => {
      const subject = randomUUID();
      const hour: RateLimit = { name: 'perHour', limit: 3, windowMs: 60 * MINUTE };
      const day: RateLimit = { name: 'perDay', limit: 5, windowMs: 24 * 60 * MINUTE };
      expect(await burst(store, subject, [hour, day], 10)).toBe(3);
      // Seven refusals by the hourly limit used none of the daily budget: two are left of it.
      expect(await burst(store, subject, [day], 10)).toBe(2);
      const refused = await store.take(subject, [hour, day]);
      expect(refused).toMatchObject({ admitted: false, limit: { name: 'perHour' } });
    });
  });
}

storeContract('in-process store', async () => new LocalRateLimitStore());

describe.skipIf(!redisAvailable())('Redis store', () => {
  storeContract('Redis store', () => RedisRateLimitStore.open(REDIS_URL, `test-${randomUUID()}:`, log));

  it('shares its counters between instances', async () => {
    const prefix = `test-${randomUUID()}:`;
    const one = await RedisRateLimitStore.open(REDIS_URL, prefix, log);
    const two = await RedisRateLimitStore.open(REDIS_URL, prefix, log);
    try {
      const subject = randomUUID();
      expect(await burst(one, subject, [perMinute(4)], 3)).toBe(3);
      expect(await burst(two, subject, [perMinute(4)], 3)).toBe(1);
      expect((await one.take(subject, [perMinute(4)])).admitted).toBe(false);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('allows no second burst right after a window boundary, as a fixed window would', async () => {
    const store = await RedisRateLimitStore.open(REDIS_URL, `test-${randomUUID()}:`, log);
    const clock = new Redis(REDIS_URL);
    try {
      const windowMs = 2000;
      const limit: RateLimit = { name: 'perTwoSeconds', limit: 3, windowMs };
      const [seconds, micros] = await clock.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      // Wait for the start of a window, spend the budget, then wait for the next window to begin.
      await sleep(windowMs - (now % windowMs) + 20);
      const subject = randomUUID();
      expect(await burst(store, subject, [limit], 3)).toBe(3);
      const [seconds2, micros2] = await clock.time();
      const now2 = Number(seconds2) * 1000 + Math.floor(Number(micros2) / 1000);
      await sleep(windowMs - (now2 % windowMs) + 20);
      // A fixed window would admit 3 more here; the sliding estimate still counts nearly all of the last 3.
      expect((await store.take(subject, [limit])).admitted).toBe(false);
    } finally {
      clock.disconnect();
      await store.close();
    }
  });
});

describe.skipIf(!redisServerInstalled)('Redis store when Redis goes away', () => {
  it('keeps limiting in the process, and shares counters again when Redis is back', async () => {
    const redis = await RedisProcess.start();
    const store = await RedisRateLimitStore.open(redis.url, 'outage:', log);
    try {
      const subject = randomUUID();
      expect(await burst(store, subject, [perMinute(3)], 2)).toBe(2);
      await redis.kill();
      // Neither open nor down: the local fallback admits its own budget and refuses the rest.
      expect(await burst(store, subject, [perMinute(3)], 5)).toBe(3);
      await redis.resume();
      const probe = new Redis(redis.url);
      try {
        // Back on Redis once a take leaves its counter there (the client reconnects on its own schedule).
        const fresh = randomUUID();
        await waitUntil(async () => {
          await store.take(fresh, [perMinute(2)]);
          return (await probe.exists(`outage:rate:{${fresh}}:perMinute`)) === 1;
        });
        const counted = Number(await probe.hget(`outage:rate:{${fresh}}:perMinute`, 'current'));
        expect(await burst(store, fresh, [perMinute(2)], 3)).toBe(2 - counted);
      } finally {
        probe.disconnect();
      }
    } finally {
      await store.close();
      await redis.kill();
    }
  });
});

describe('the sliding window, on a clock the test controls', () => {
  const clock = { now: 0 };
  const store = new LocalRateLimitStore(() => clock.now);
  const limit = perMinute(10);

  it('admits no double burst across a window boundary', async () => {
    clock.now = 59_000;
    const subject = randomUUID();
    expect(await burst(store, subject, [limit], 10)).toBe(10);
    clock.now = 61_000; // a fixed window would have reset one second ago
    expect(await burst(store, subject, [limit], 10)).toBe(0);
  });

  it('says exactly when the next request fits', async () => {
    clock.now = 600_000;
    const subject = randomUUID();
    await burst(store, subject, [limit], 10);
    clock.now = 630_000;
    const refused = await store.take(subject, [limit]);
    if (refused.admitted) throw new Error('expected a refusal');
    clock.now = 630_000 + refused.retryAfterMs - 1;
    expect((await store.take(subject, [limit])).admitted).toBe(false);
    clock.now = 630_000 + refused.retryAfterMs;
    expect((await store.take(subject, [limit])).admitted).toBe(true);
  });

  it('holds a steady overload to the limit per window', async () => {
    clock.now = 6_000_000;
    const subject = randomUUID();
    const admittedPerWindow: number[] = [];
    // Three times the allowed rate, for ten windows.
    for (let window = 0; window < 10; window++) {
      let admitted = 0;
      for (let i = 0; i < 30; i++) {
        clock.now += MINUTE / 30;
        if ((await store.take(subject, [limit])).admitted) admitted++;
      }
      admittedPerWindow.push(admitted);
    }
    for (const admitted of admittedPerWindow.slice(1)) {
      expect(admitted).toBeGreaterThanOrEqual(9);
      expect(admitted).toBeLessThanOrEqual(11);
    }
  });

  it('computes waits for a spent current window and for a previous one sliding out', () => {
    // All ten in the current window: wait for it to end, then for the whole of it to slide out.
    expect(retryAfterMs({ previous: 0, current: 10, elapsedMs: 20_000 }, limit)).toBe(40_000 + 6_000);
    // 18 in the last window and 1 now, 30 s in: the estimate 18 x 0.5 + 1 = 10 falls to 9 at 33.33 s.
    expect(retryAfterMs({ previous: 18, current: 1, elapsedMs: 30_000 }, limit)).toBe(3_334);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error('condition never held');
}
