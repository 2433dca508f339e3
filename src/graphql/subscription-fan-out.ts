import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  print,
} from 'graphql';
import { closeIterable } from '../pubsub/iterables.js';
import { type LiveStreamOptions, liveFeedOf, type VersionedEvent } from '../pubsub/live-stream.js';
import { accessScopeKey } from './access.js';
import type { GraphQLContext } from './context.js';

/** Longest the fan-out holds the event loop before it lets I/O (mutations, other requests) run. */
const TURN_BUDGET_MS = 8;
/** Members handed a result between two looks at the clock. */
const MEMBERS_PER_CHECK = 25;

export interface FanOutStats {
  /** Groups of subscribers that see the same answers, and the subscribers in them. */
  readonly groups: number;
  readonly members: number;
  /** Executions of a change for a group so far (one per change and group, whatever its size). */
  readonly changeExecutions: number;
}

export interface SubscriptionFanOut {
  /**
   * graphql-ws's `subscribe`: a live subscription joins the group of subscribers that must see the same
   * answer (same document, operation, variables and access scope), which executes each change once for all
   * of them; anything else runs as graphql-js runs it, once per subscriber.
   */
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  stats(): FanOutStats;
}

/**
 * Serves live subscriptions by group. Each event used to be executed once per subscriber, all in one
 * stretch of the event loop: with a thousand subscribers, the mutations that caused the changes waited
 * behind their own fan-out. Here a group holds one subscription to the bus, checks each change once,
 * executes it once and hands the same result to every member, yielding to the event loop before each
 * execution and whenever it has held the loop for TURN_BUDGET_MS.
 *
 * What is each subscriber's own stays with it: its first state (the snapshot, read and executed with its own
 * context), its version filter, its bounded queue (a subscriber whose socket cannot keep up is cut off with
 * the stream's `tooSlow` error, the others go on) and its end, when it leaves or its socket is closed.
 */
export function createSubscriptionFanOut(): SubscriptionFanOut {
  const groups = new Map<string, FanOutGroup>();
  const counters = { changeExecutions: 0 };
  const pacer = new EventLoopPacer(TURN_BUDGET_MS);

  return {
    async subscribe(args) {
      const source = await createSourceEventStream(args);
      const feed = liveFeedOf(source);
      if (feed === undefined) return isAsyncIterable(source) ? executeEach(source, args) : source;
      const key = groupKey(args);
      let group = groups.get(key);
      if (group === undefined || group.closed) {
        const created = new FanOutGroup(feed, args, pacer, counters, () => groups.delete(key));
        groups.set(key, created);
        group = created;
      } else {
        // The group's own subscription to the bus carries the same events: this one is never started.
        void Promise.allSettled([closeIterable(feed.changes), closeIterable(feed.resyncs)]);
      }
      return group.join(feed, args);
    },
    stats: () => ({
      groups: groups.size,
      members: [...groups.values()].reduce((sum, group) => sum + group.size, 0),
      changeExecutions: counters.changeExecutions,
    }),
  };
}

const printed = new WeakMap<DocumentNode, string>();

/** Subscribers with the same key are shown exactly the same answers. */
function groupKey(args: ExecutionArgs): string {
  let document = printed.get(args.document);
  if (document === undefined) {
    document = print(args.document);
    printed.set(args.document, document);
  }
  const { viewer } = args.contextValue as GraphQLContext;
  return JSON.stringify([
    document,
    args.operationName ?? null,
    args.variableValues ?? {},
    viewer === null ? null : accessScopeKey(viewer),
  ]);
}

/** A result ready for the subscribers of one group, with the event it answers (for the version filter). */
interface Delivery {
  readonly serverId: string;
  readonly version: number;
  readonly result: ExecutionResult;
}

/** Subscribers that see the same answers, fed by one subscription to the bus. */
class FanOutGroup {
  closed = false;
  private readonly members = new Set<GroupMember>();
  private readonly pending: VersionedEvent[] = [];
  private draining = false;

  constructor(
    private readonly feed: LiveStreamOptions<VersionedEvent>,
    /** The first member's: its context is the group's (same access scope as every member's). */
    private readonly args: ExecutionArgs,
    private readonly pacer: EventLoopPacer,
    private readonly counters: { changeExecutions: number },
    private readonly onClosed: () => void,
  ) {
    void this.pump(feed.changes, (event) => this.enqueue([event]));
    // After the bus reconnected, the current state once for the whole group.
    void this.pump(feed.resyncs, async () => this.enqueue(await feed.snapshot()));
  }

  get size(): number {
    return this.members.size;
  }

  /** A new subscriber: it first gets its own current state, then the group's changes. */
  join(own: LiveStreamOptions<VersionedEvent>, args: ExecutionArgs): GroupMember {
    const member = new GroupMember(own.maxQueue, own.tooSlow, () => this.leave(member));
    this.members.add(member);
    void (async () => {
      try {
        for (const event of await own.snapshot()) {
          if (own.accepts(event))
            member.offer(deliveryOf(event, await execute({ ...args, rootValue: event })));
        }
      } catch (error) {
        member.fail(error);
      }
    })();
    return member;
  }

  private leave(member: GroupMember): void {
    this.members.delete(member);
    if (this.members.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.pending.length = 0;
    void Promise.allSettled([closeIterable(this.feed.changes), closeIterable(this.feed.resyncs)]);
  }

  private async pump<S>(source: AsyncIterable<S>, handle: (item: S) => Promise<void> | void): Promise<void> {
    try {
      for await (const item of source) await handle(item);
    } catch (error) {
      this.failAll(error);
    }
  }

  private enqueue(events: readonly VersionedEvent[]): void {
    if (this.closed) return;
    this.pending.push(...events);
    // As with each subscriber's own queue: when the group falls this far behind, its members are told to
    // resubscribe rather than the server buffering without bound.
    if (this.pending.length > this.feed.maxQueue) {
      this.pending.length = 0;
      this.failAll(this.feed.tooSlow());
      return;
    }
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let event = this.pending.shift(); event !== undefined; event = this.pending.shift()) {
        if (this.closed) return;
        if (!this.feed.accepts(event)) continue;
        // Between groups (and between changes): mutations and other requests get their turn.
        await nextTurn();
        this.pacer.turnStarted();
        if (this.closed) return;
        this.counters.changeExecutions += 1;
        const delivery = deliveryOf(event, await execute({ ...this.args, rootValue: event }));
        let handed = 0;
        for (const member of [...this.members]) {
          member.offer(delivery);
          handed += 1;
          if (handed % MEMBERS_PER_CHECK === 0) await this.pacer.pace();
        }
      }
    } catch (error) {
      this.failAll(error);
    } finally {
      this.draining = false;
    }
  }

  private failAll(error: unknown): void {
    for (const member of this.members) member.fail(error);
  }
}

function deliveryOf(event: VersionedEvent, result: ExecutionResult): Delivery {
  return { serverId: event.serverId, version: event.version, result };
}

/**
 * One subscriber of a group, as the iterator graphql-ws reads its results from. Per server, only results of
 * events newer than the last one delivered pass (a resync or a late duplicate never moves it backwards), and
 * at most `maxQueue` wait for it.
 */
class GroupMember implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: Delivery[] = [];
  private readonly delivered = new Map<string, number>();
  private failure: unknown;
  private overflow = false;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly maxQueue: number,
    private readonly tooSlow: () => Error,
    private readonly onEnd: () => void,
  ) {}

  offer(delivery: Delivery): void {
    if (this.ended) return;
    if (this.queue.length >= this.maxQueue) this.overflow = true;
    else this.queue.push(delivery);
    this.wake?.();
  }

  fail(error: unknown): void {
    if (this.failure === undefined) this.failure = error;
    this.wake?.();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.ended) {
      if (this.overflow || this.failure !== undefined) {
        const error = this.overflow ? this.tooSlow() : this.failure;
        this.end();
        throw error;
      }
      const delivery = this.queue.shift();
      if (delivery === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      if ((this.delivered.get(delivery.serverId) ?? -1) >= delivery.version) continue;
      this.delivered.set(delivery.serverId, delivery.version);
      return { value: delivery.result, done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.wake?.();
    this.onEnd();
  }
}

/** Lets the event loop run (I/O, timers) once a stretch of work has held it for `budgetMs`. */
class EventLoopPacer {
  private turnStart = performance.now();

  constructor(private readonly budgetMs: number) {}

  turnStarted(): void {
    this.turnStart = performance.now();
  }

  async pace(): Promise<void> {
    if (performance.now() - this.turnStart < this.budgetMs) return;
    await nextTurn();
    this.turnStarted();
  }
}

/** A subscription that is not a live stream, executed per event as graphql-js's own `subscribe` does. */
async function* executeEach(
  source: AsyncIterable<unknown>,
  args: ExecutionArgs,
): AsyncGenerator<ExecutionResult> {
  try {
    for await (const event of source) yield await execute({ ...args, rootValue: event });
  } finally {
    await closeIterable(source);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
