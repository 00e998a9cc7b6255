const IDLE = Symbol('idle');

/**
 * Groups what a source has ready into batches of at most `maxSize`. After the
 * first item it waits up to `lingerMs` for more (none: only what is ready at
 * once), so that at a low rate a batch still holds a few events: each batch
 * costs a transaction and a handful of round trips whatever its size, and
 * those, not the events, are what fills the CPU (docs/benchmarks.md).
 */
export async function* inBatches<T>(source: AsyncIterable<T>, maxSize: number, lingerMs = 0): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const first = await pending;
    if (first.done) return;
    const batch = [first.value];
    pending = iterator.next();
    let timer: NodeJS.Timeout | undefined;
    // One timer for the whole batch; without lingering, whatever is ready by the next turn of the event loop.
    const lingered = lingerMs > 0 ? new Promise<typeof IDLE>((resolve) => (timer = setTimeout(resolve, lingerMs, IDLE))) : undefined;
    try {
      while (batch.length < maxSize) {
        const next = await Promise.race([pending, lingered ?? new Promise<typeof IDLE>((resolve) => setImmediate(resolve, IDLE))]);
        if (next === IDLE) break;
        if (next.done) {
          yield batch;
          return;
        }
        batch.push(next.value);
        pending = iterator.next();
      }
    } catch (error) {
      // The source failed while this batch gathered: what it holds goes out first, the failure with the next read.
      pending = Promise.reject(error);
    } finally {
      clearTimeout(timer);
    }
    // Read ahead while the batch is handled: a failure meanwhile waits for the next await, not as an unhandled rejection.
    pending.catch(() => undefined);
    yield batch;
  }
}
