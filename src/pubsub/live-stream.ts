/** An event about one server, as every live event is. */
export interface VersionedEvent {
  readonly serverId: string;
  readonly version: number;
}

export interface LiveStreamOptions<T extends VersionedEvent> {
  /** Events as they are published (pub/sub is at-most-once: some may never arrive). */
  readonly changes: AsyncIterable<T>;
  /** Fires after the event bus reconnected: whatever was published meanwhile is lost. */
  readonly resyncs: AsyncIterable<unknown>;
  /** The current state of what the subscriber watches, as events. */
  readonly snapshot: () => Promise<T[]>;
  /** Whether the subscriber may see this event (tenant, server filter). */
  readonly accepts: (event: T) => boolean;
  /** Events waiting for a slow subscriber before it is cut off. */
  readonly maxQueue: number;
  /** The error that ends the stream of a subscriber that fell `maxQueue` events behind. */
  readonly tooSlow: () => Error;
}

/**
 * A subscription's event stream: first the current state, then changes; after the event bus reconnects, the
 * current state again, so nothing stays wrong after an outage. Per server, only events newer than the last
 * one delivered pass, so a resync or a late duplicate never moves a client backwards. A subscriber that
 * falls `maxQueue` events behind gets an error telling it to resubscribe, rather than unbounded memory.
 */
export async function* liveStream<T extends VersionedEvent>(
  options: LiveStreamOptions<T>,
): AsyncGenerator<T> {
  const delivered = new Map<string, number>();
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let overflow = false;

  const push = (events: T[]) => {
    for (const event of events) {
      if (!options.accepts(event)) continue;
      if (queue.length >= options.maxQueue) overflow = true;
      else queue.push(event);
    }
    wake?.();
  };
  const pump = async <S>(source: AsyncIterable<S>, handle: (item: S) => Promise<void> | void) => {
    try {
      for await (const item of source) await handle(item);
    } catch (error) {
      failure = error;
      wake?.();
    }
  };

  const sources = [
    pump(options.changes, (event) => push([event])),
    pump(options.resyncs, async () => push(await options.snapshot())),
  ];
  push(await options.snapshot());
  try {
    for (;;) {
      if (overflow) {
        throw options.tooSlow();
      }
      if (failure !== undefined) throw failure;
      const event = queue.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if ((delivered.get(event.serverId) ?? -1) >= event.version) continue;
      delivered.set(event.serverId, event.version);
      yield event;
    }
  } finally {
    await Promise.all([closeIterable(options.changes), closeIterable(options.resyncs)]);
    void Promise.allSettled(sources);
  }
}

async function closeIterable(iterable: AsyncIterable<unknown>): Promise<void> {
  const iterator = iterable as Partial<AsyncIterator<unknown>>;
  await iterator.return?.();
}
