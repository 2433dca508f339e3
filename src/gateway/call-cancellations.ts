import type { Logger } from '../logger.js';
import { closeIterable, consume } from '../pubsub/iterables.js';
import type { TypedPubSub } from '../pubsub/pubsub.js';

// A 2025-era session sends `notifications/cancelled` in a request of its own, which may reach another
// instance than the one running the call: the event bus carries it to all, and the one with the call aborts it.

export const CALL_CANCELLED = 'gateway.call-cancelled';

export interface CallCancelledEvent {
  readonly sessionId: string;
  readonly requestId: string | number;
}

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [CALL_CANCELLED]: CallCancelledEvent;
  }
}

/** A call that its session may cancel: `signal` aborts when it does; `release` when the call is over. */
export interface CancellableCall {
  readonly signal: AbortSignal;
  release(): void;
}

export class CallCancellations {
  private readonly inFlight = new Map<string, AbortController>();
  private readonly cancellations: AsyncIterable<CallCancelledEvent>;

  constructor(
    private readonly pubSub: TypedPubSub,
    private readonly log: Logger,
  ) {
    this.cancellations = pubSub.subscribe(CALL_CANCELLED);
    void consume(this.cancellations, async (event) => {
      this.inFlight.get(keyOf(event))?.abort(new Error('cancelled by the client'));
    });
  }

  /** Tracks a call of a session until it is released. */
  track(sessionId: string, requestId: string | number): CancellableCall {
    const key = keyOf({ sessionId, requestId });
    const controller = new AbortController();
    this.inFlight.set(key, controller);
    return {
      signal: controller.signal,
      release: () => {
        if (this.inFlight.get(key) === controller) this.inFlight.delete(key);
      },
    };
  }

  /** The session cancelled one of its requests: whichever instance runs it aborts it. */
  cancel(event: CallCancelledEvent): void {
    this.log.debug(event, 'agent cancelled a request');
    this.pubSub.publish(CALL_CANCELLED, event);
  }

  async close(): Promise<void> {
    await closeIterable(this.cancellations);
    for (const controller of this.inFlight.values()) controller.abort(new Error('the gateway is stopping'));
    this.inFlight.clear();
  }
}

function keyOf(event: CallCancelledEvent): string {
  return `${event.sessionId}\u0000${typeof event.requestId}:${String(event.requestId)}`;
}
