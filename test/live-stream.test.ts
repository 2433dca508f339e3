import { createPubSub } from '@graphql-yoga/subscription';
import { describe, expect, it } from 'vitest';
import { liveStream, type VersionedEvent } from '../src/pubsub/live-stream.js';

interface Change extends VersionedEvent {
  readonly tenantId: string;
  readonly label: string;
}

// The stream over a real in-process pub/sub: the changes topic and the resync signal.
function setup(snapshot: () => Promise<Change[]>, maxQueue = 100) {
  const bus = createPubSub<{ changes: [Change]; resync: [] }>();
  const stream = liveStream<Change>({
    changes: bus.subscribe('changes'),
    resyncs: bus.subscribe('resync'),
    snapshot,
    accepts: (event) => event.tenantId === 'mine',
    maxQueue,
    tooSlow: () => Object.assign(new Error('too slow'), { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } }),
  });
  return { bus, stream };
}

const change = (
  serverId: string,
  version: number,
  label = `${serverId}@${version}`,
  tenantId = 'mine',
): Change => ({
  serverId,
  version,
  label,
  tenantId,
});

describe('live stream', () => {
  it('yields the current state first, then accepted changes, never going back in version', async () => {
    const { bus, stream } = setup(async () => [change('a', 2), change('b', 0)]);
    const first = await stream.next();
    const second = await stream.next();
    expect([first.value?.label, second.value?.label]).toEqual(['a@2', 'b@0']);

    bus.publish('changes', change('a', 1)); // older than what the subscriber has: dropped
    bus.publish('changes', change('a', 3, 'other tenant', 'theirs')); // not the subscriber's: dropped
    bus.publish('changes', change('a', 3));
    expect((await stream.next()).value?.label).toBe('a@3');
    await stream.return(undefined);
  });

  it('re-sends the current state after a resync, so changes lost meanwhile still arrive', async () => {
    let state = [change('a', 0)];
    const { bus, stream } = setup(async () => state);
    expect((await stream.next()).value?.label).toBe('a@0');
    state = [change('a', 5, 'changed while the bus was away')];
    bus.publish('resync');
    expect((await stream.next()).value?.label).toBe('changed while the bus was away');
    await stream.return(undefined);
  });

  it('cuts off a subscriber that falls too far behind instead of buffering without bound', async () => {
    const { bus, stream } = setup(async () => [change('a', 0)], 3);
    expect((await stream.next()).value?.label).toBe('a@0');
    // The subscriber reads nothing while ten changes arrive: three fit in its queue.
    for (let version = 1; version <= 10; version++) bus.publish('changes', change('a', version));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(stream.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
  });

  it('ends at once when the subscriber leaves while it waits, and lets go of its pub/sub subscriptions', async () => {
    const closed: string[] = [];
    // A source that never yields and records being closed, as a quiet pub/sub topic.
    const quiet = <S>(name: string): AsyncIterableIterator<S> => ({
      next: () => new Promise<IteratorResult<S>>(() => {}),
      return: async () => {
        closed.push(name);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    });
    const stream = liveStream<Change>({
      changes: quiet('changes'),
      resyncs: quiet('resyncs'),
      snapshot: async () => [change('a', 0)],
      accepts: () => true,
      maxQueue: 10,
      tooSlow: () => new Error('too slow'),
    });
    expect((await stream.next()).value?.label).toBe('a@0');
    const waiting = stream.next(); // nothing will be published
    await expect(stream.return(undefined)).resolves.toMatchObject({ done: true });
    await expect(waiting).resolves.toMatchObject({ done: true });
    expect(closed.sort()).toEqual(['changes', 'resyncs']);
  });
});
