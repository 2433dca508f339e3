/**
 * Rate limits as sliding windows: at most `limit` requests in any `windowMs`, estimated from two fixed windows
 * (the current one's count plus the previous one's, weighted by how much of it still overlaps the sliding
 * window). Unlike a fixed window it allows no double burst at a window boundary, and unlike a log of every
 * request it costs two counters per limit whatever the limit is.
 */

/** One budget: at most `limit` requests in any `windowMs`. */
export interface RateLimit {
  /** Names the budget to the client (`perHour`) and in storage keys. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** The counters of one budget of one subject. */
export interface WindowCounts {
  /** Requests counted in the previous fixed window. */
  readonly previous: number;
  /** Requests counted so far in the current fixed window. */
  readonly current: number;
  /** Milliseconds since the current fixed window began. */
  readonly elapsedMs: number;
}

export type RateDecision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly limit: RateLimit; readonly retryAfterMs: number };

/** Where counters live: in Redis for the whole fleet, or in this process. */
export interface RateLimitStore {
  /**
   * Counts one request of `subject` against every limit when all of them admit it, and nothing otherwise
   * (a refused request does not use up budget).
   */
  take(subject: string, limits: readonly RateLimit[]): Promise<RateDecision>;
  close(): Promise<void>;
}

/** The sliding window's estimate of the requests in the last `windowMs`. Mirrored in the Redis script. */
export function estimatedCount(counts: WindowCounts, windowMs: number): number {
  return (counts.previous * (windowMs - counts.elapsedMs)) / windowMs + counts.current;
}

/** How long until one more request fits under `limit`, if no other request is admitted meanwhile. */
export function retryAfterMs(counts: WindowCounts, limit: RateLimit): number {
  const { previous, current, elapsedMs } = counts;
  const room = limit.limit - 1;
  const { windowMs } = limit;
  let wait: number;
  if (current <= room) {
    // The current window alone fits: wait until enough of the previous window has slid out.
    const fitsAt = previous === 0 ? elapsedMs : windowMs - ((room - current) * windowMs) / previous;
    wait = fitsAt - elapsedMs;
  } else {
    // Even the current window alone is too many: wait for the next window, then for part of it to slide.
    wait = windowMs - elapsedMs + windowMs * (1 - room / current);
  }
  return Math.max(1, Math.ceil(wait));
}

interface LocalWindow {
  index: number;
  previous: number;
  current: number;
}

/** How many subjects the in-process store remembers before it forgets the oldest. */
const MAX_LOCAL_SUBJECTS = 100_000;

/**
 * Counters in this process: the store of embedded mode, and the fallback while Redis is unreachable (then each
 * instance enforces the full limit on its own, so the fleet admits at most instances x limit: degraded, not open).
 */
export class LocalRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, LocalWindow>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(subject: string, limits: readonly RateLimit[]): Promise<RateDecision> {
    const now = this.now();
    const states = limits.map((limit) => {
      const key = `${subject}:${limit.name}`;
      const index = Math.floor(now / limit.windowMs);
      const counts = rolled(this.windows.get(key), index, now - index * limit.windowMs);
      return { key, index, limit, counts };
    });
    const refused = states.find(
      ({ counts, limit }) => estimatedCount(counts, limit.windowMs) + 1 > limit.limit,
    );
    if (refused !== undefined) {
      return {
        admitted: false,
        limit: refused.limit,
        retryAfterMs: retryAfterMs(refused.counts, refused.limit),
      };
    }
    for (const { key, index, counts } of states) {
      // Re-inserting moves the key to the end of the map's order, so the oldest subjects are forgotten first.
      this.windows.delete(key);
      this.windows.set(key, { index, previous: counts.previous, current: counts.current + 1 });
    }
    this.forgetOldest();
    return { admitted: true };
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private forgetOldest(): void {
    for (const key of this.windows.keys()) {
      if (this.windows.size <= MAX_LOCAL_SUBJECTS) return;
      this.windows.delete(key);
    }
  }
}

/** A stored window moved forward to the fixed window `index`. */
function rolled(stored: LocalWindow | undefined, index: number, elapsedMs: number): WindowCounts {
  if (stored === undefined || stored.index < index - 1) return { previous: 0, current: 0, elapsedMs };
  if (stored.index === index - 1) return { previous: stored.current, current: 0, elapsedMs };
  return { previous: stored.previous, current: stored.current, elapsedMs };
}
