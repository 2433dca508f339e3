import type { Coherence } from './coherence.js';

export interface CoherentCacheOptions {
  /** Entries kept; the least recently used goes first. */
  readonly maxEntries: number;
  /**
   * How long an entry is trusted at most, even when no event says it changed: the bound on staleness for
   * changes made around the application (SQL by hand).
   */
  readonly ttlMs: number;
}

/** Taken before reading what will be stored: an invalidation or a lost event bus in between voids it. */
export interface CacheTicket {
  readonly epoch: number;
  readonly version: number;
}

interface Entry<V> {
  readonly value: V;
  readonly epoch: number;
  readonly storedAt: number;
}

/**
 * Values read from the database, kept in this process while the event bus can tell it of every change
 * (coherence.ts). The owner watches the topics that change what it keeps and calls `invalidate`. Nothing is
 * served while the bus is down, and nothing read before a lost connection or an invalidation survives it.
 */
export class CoherentCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Moves on every invalidation: a read that began before one is not stored. */
  private version = 0;

  constructor(
    private readonly coherence: Coherence,
    private readonly options: CoherentCacheOptions,
  ) {}

  /** The value held for `key`, when it may be trusted now. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const epoch = this.coherence.epoch();
    if (epoch === null || epoch !== entry.epoch || Date.now() - entry.storedAt > this.options.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last, so eviction takes the first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** A ticket for a read that may be stored; `null` while nothing may be (the bus is down). */
  ticket(): CacheTicket | null {
    const epoch = this.coherence.epoch();
    return epoch === null ? null : { epoch, version: this.version };
  }

  /** Keeps `value`, read under `ticket`, unless something changed since the ticket was taken. */
  set(key: string, value: V, ticket: CacheTicket | null): void {
    if (ticket === null || ticket.version !== this.version || this.coherence.epoch() !== ticket.epoch) return;
    this.entries.delete(key);
    this.entries.set(key, { value, epoch: ticket.epoch, storedAt: Date.now() });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** Drops the entries `matches` selects (every entry without it); reads in flight are not kept either. */
  invalidate(matches?: (value: V, key: string) => boolean): void {
    this.version += 1;
    if (matches === undefined) {
      this.entries.clear();
      return;
    }
    for (const [key, entry] of this.entries) if (matches(entry.value, key)) this.entries.delete(key);
  }
}
