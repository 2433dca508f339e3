import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  LocalRateLimitStore,
  type RateDecision,
  type RateLimit,
  type RateLimitStore,
  retryAfterMs,
} from './rate-limit.js';

/**
 * Checks and counts every limit of one subject atomically, on Redis's clock (instances' clocks may disagree).
 * The arithmetic mirrors `estimatedCount` in rate-limit.ts. KEYS: one hash per limit. ARGV: per limit, its
 * `limit` and `windowMs`. Returns `{1}` when admitted, else `{0, i, previous, current, elapsedMs}` for the
 * first limit that refused.
 */
const TAKE_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local states = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local index = math.floor(now / window)
  local stored = redis.call('HMGET', KEYS[i], 'index', 'previous', 'current')
  local storedIndex = tonumber(stored[1])
  local previous = tonumber(stored[2]) or 0
  local current = tonumber(stored[3]) or 0
  if storedIndex == nil or storedIndex < index - 1 then
    previous = 0
    current = 0
  elseif storedIndex == index - 1 then
    previous = current
    current = 0
  end
  local elapsed = now - index * window
  if previous * (window - elapsed) / window + current + 1 > limit then
    return {0, i, previous, current, elapsed}
  end
  states[i] = {index, previous, current, window}
end
for i = 1, #KEYS do
  local s = states[i]
  redis.call('HSET', KEYS[i], 'index', s[1], 'previous', s[2], 'current', s[3] + 1)
  redis.call('PEXPIRE', KEYS[i], 2 * s[4])
end
return {1}
`;

/** How long a rate-limit check may wait for Redis before this instance decides on its own. */
const REDIS_DEADLINE_MS = 250;

type TakeReply = [1] | [0, number, number, number, number];

interface RateLimitRedis extends Redis {
  takeRateLimits(...args: (string | number)[]): Promise<TakeReply>;
}

/**
 * Counters in Redis, shared by every instance. When Redis is down or slow, each request is decided by an
 * in-process store instead: the API neither stops nor stops limiting. Its own connection fails fast (no
 * offline queue, a short command timeout) so an outage never makes requests wait.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: RateLimitRedis;
  private readonly fallback = new LocalRateLimitStore();
  private degraded = false;

  /** Connects first, so the first requests are counted fleet-wide; with Redis down, starts on the fallback. */
  static async open(redisUrl: string, keyPrefix: string, log: Logger): Promise<RedisRateLimitStore> {
    const store = new RedisRateLimitStore(redisUrl, keyPrefix, log);
    await store.redis.connect().catch((error: unknown) => store.degrade(error));
    return store;
  }

  private constructor(
    redisUrl: string,
    private readonly keyPrefix: string,
    private readonly log: Logger,
  ) {
    this.redis = new Redis(redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_DEADLINE_MS,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 5000),
    }) as RateLimitRedis;
    this.redis.defineCommand('takeRateLimits', { lua: TAKE_SCRIPT });
    this.redis.on('error', () => {
      // Connection errors surface as failed commands, which take() answers from the fallback and logs.
    });
  }

  async take(subject: string, limits: readonly RateLimit[]): Promise<RateDecision> {
    if (limits.length === 0) return { admitted: true };
    try {
      const keys = limits.map((limit) => `${this.keyPrefix}rate:{${subject}}:${limit.name}`);
      const args = limits.flatMap((limit) => [limit.limit, limit.windowMs]);
      const reply = await this.redis.takeRateLimits(keys.length, ...keys, ...args);
      this.recovered();
      if (reply[0] === 1) return { admitted: true };
      const [, position, previous, current, elapsedMs] = reply;
      const limit = limits[position - 1];
      if (limit === undefined)
        throw new Error(`the rate-limit script refused limit ${position} of ${limits.length}`);
      return { admitted: false, limit, retryAfterMs: retryAfterMs({ previous, current, elapsedMs }, limit) };
    } catch (error) {
      this.degrade(error);
      return this.fallback.take(subject, limits);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.fallback.close()]);
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    const err = error instanceof Error ? error.message : String(error);
    this.log.warn({ err }, 'rate limits: Redis unavailable, limiting in this process until it returns');
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.log.info('rate limits: Redis is back, limiting fleet-wide again');
  }
}
