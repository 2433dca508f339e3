/** One time budget shared by every step of an exchange with a server. */
export class Deadline {
  /** Aborts when the budget is spent; passed to every fetch and SDK request. */
  readonly signal: AbortSignal;
  private readonly endsAt: number;

  constructor(readonly timeoutMs: number) {
    this.signal = AbortSignal.timeout(timeoutMs);
    this.endsAt = performance.now() + timeoutMs;
  }

  remainingMs(): number {
    return Math.max(1, Math.ceil(this.endsAt - performance.now()));
  }

  /** Settles like `run()`, or rejects when the budget is spent first (for steps that take no signal). */
  race<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason);
      if (this.signal.aborted) return onAbort();
      this.signal.addEventListener('abort', onAbort, { once: true });
      run()
        .then(resolve, reject)
        .finally(() => this.signal.removeEventListener('abort', onAbort));
    });
  }
}

/** Whole milliseconds since `startedAt` (a `performance.now()` reading). */
export function elapsedSince(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
