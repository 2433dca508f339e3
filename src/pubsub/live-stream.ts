import { closeIterable } from './iterables.js';

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
 *
 * Ending it (`return()`, when the client unsubscribes or disconnects) takes effect at once, also while it waits
 * for the next event: an async generator would hold the request until that event came, and until then keep
 * its pub/sub subscriptions and everything they reach.
 */
export function liveStream<T extends VersionedEvent>(options: LiveStreamOptions<T>): LiveStream<T> {
  const control: StreamControl = { ended: false, wake: undefined };
  const events = streamEvents(options, control);
  const end = () => {
    control.ended = true;
    control.wake?.();
  };
  return {
    [LIVE_FEED]: options as unknown as LiveStreamOptions<VersionedEvent>,
    next: () => events.next(),
    return: (value?: unknown) => {
      end();
      return events.return(value);
    },
    throw: (error?: unknown) => {
      end();
      return events.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const LIVE_FEED = Symbol('live feed');

/**
 * What a live stream was made of, so that a fan-out can serve many subscribers that would see the same thing
 * from one subscription to the bus (src/graphql/subscription-fan-out.ts); undefined for any other iterable.
 */
export function liveFeedOf(stream: unknown): LiveStreamOptions<VersionedEvent> | undefined {
  return typeof stream === 'object' && stream !== null && LIVE_FEED in stream
    ? (stream as LiveStream<VersionedEvent>)[LIVE_FEED]
    : undefined;
}

/** An event stream that can always be ended (and errored) from outside. */
export interface LiveStream<T> extends AsyncIterableIterator<T> {
  /** The options it was made of (see `liveFeedOf`). */
  readonly [LIVE_FEED]: LiveStreamOptions<VersionedEvent>;
  return(value?: unknown): Promise<IteratorResult<T>>;
  throw(error?: unknown): Promise<IteratorResult<T>>;
}

interface StreamControl {
  /** Set when the consumer ended the stream: the loop stops at its next turn. */
  ended: boolean;
  /** Resumes the loop while it waits for events. */
  wake: (() => void) | undefined;
}

async function* streamEvents<T extends VersionedEvent>(
  options: LiveStreamOptions<T>,
  control: StreamControl,
): AsyncGenerator<T> {
  const delivered = new Map<string, number>();
  const queue: T[] = [];
  let failure: unknown;
  let overflow = false;

  const push = (events: T[]) => {
    for (const event of events) {
      if (!options.accepts(event)) continue;
      if (queue.length >= options.maxQueue) overflow = true;
      else queue.push(event);
    }
    control.wake?.();
  };
  const pump = async <S>(source: AsyncIterable<S>, handle: (item: S) => Promise<void> | void) => {
    try {
      for await (const item of source) await handle(item);
    } catch (error) {
      failure = error;
      control.wake?.();
    }
  };

  const sources = [
    pump(options.changes, (event) => push([event])),
    pump(options.resyncs, async () => push(await options.snapshot())),
  ];
  try {
    push(await options.snapshot());
    while (!control.ended) {
      if (overflow) throw options.tooSlow();
      if (failure !== undefined) throw failure;
      const event = queue.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => {
          control.wake = resolve;
        });
        control.wake = undefined;
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
