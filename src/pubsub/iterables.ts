/** Hands each event of `source` to `handle`, one at a time, until the source ends or the bus closes. */
export async function consume<T>(
  source: AsyncIterable<T>,
  handle: (item: T) => Promise<unknown>,
): Promise<void> {
  try {
    for await (const item of source) await handle(item);
  } catch {
    // The bus closed: nothing more to consume.
  }
}

/** Ends a subscription (its iterator's `return`), which unsubscribes it from the bus. */
export async function closeIterable(iterable: AsyncIterable<unknown>): Promise<void> {
  const iterator = iterable as Partial<AsyncIterator<unknown>>;
  await iterator.return?.();
}
