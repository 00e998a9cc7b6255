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
    const lingerUntil = performance.now() + lingerMs;
    while (batch.length < maxSize) {
      const left = lingerUntil - performance.now();
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<typeof IDLE>((resolve) => (left > 0 ? (timer = setTimeout(resolve, left, IDLE)) : setImmediate(resolve, IDLE)));
      const next = await Promise.race([pending, idle]);
      clearTimeout(timer);
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
