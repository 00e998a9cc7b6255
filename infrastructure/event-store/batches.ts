const IDLE = Symbol('idle');

/**
 * Groups what a source already has ready into batches of at most `maxSize`,
 * without waiting for more: live traffic goes out one at a time, catch-up in bulk.
 */
export async function* inBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const first = await pending;
    if (first.done) return;
    const batch = [first.value];
    pending = iterator.next();
    while (batch.length < maxSize) {
      const idle = new Promise<typeof IDLE>((resolve) => setImmediate(resolve, IDLE));
      const next = await Promise.race([pending, idle]);
      if (next === IDLE) break;
      if (next.done) {
        yield batch;
        return;
      }
      batch.push(next.value);
      pending = iterator.next();
    }
    yield batch;
  }
}
