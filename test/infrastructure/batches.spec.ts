import { expect } from 'chai';
import { inBatches } from '../../infrastructure/event-store/batches.ts';

/** Yields each value after its delay (ms after the previous one). */
async function* arriving(values: readonly { value: number; after: number }[]): AsyncGenerator<number> {
  for (const { value, after } of values) {
    await new Promise((resolve) => setTimeout(resolve, after));
    yield value;
  }
}

const collect = async (source: AsyncIterable<number[]>): Promise<number[][]> => {
  const batches: number[][] = [];
  for await (const batch of source) batches.push(batch);
  return batches;
};

describe('inBatches', () => {
  it('without lingering, batches only what is ready at once', async () => {
    const source = arriving([{ value: 1, after: 0 }, { value: 2, after: 20 }, { value: 3, after: 20 }]);
    expect(await collect(inBatches(source, 10))).to.deep.equal([[1], [2], [3]]);
  });

  it('lingering, takes what comes within the wait after the first into its batch, and starts a new one after', async () => {
    const source = arriving([{ value: 1, after: 0 }, { value: 2, after: 5 }, { value: 3, after: 5 }, { value: 4, after: 150 }, { value: 5, after: 5 }]);
    expect(await collect(inBatches(source, 10, 80))).to.deep.equal([[1, 2, 3], [4, 5]]);
  });

  it('lingers no longer once a batch is full', async () => {
    const started = performance.now();
    const source = arriving([1, 2, 3, 4, 5].map((value) => ({ value, after: 0 })));
    const first = await inBatches(source, 2, 10_000).next();
    expect(first.value).to.deep.equal([1, 2]);
    expect(performance.now() - started).to.be.below(5000);
  });

  it('yields the last batch when the source ends while it lingers', async () => {
    const source = arriving([{ value: 1, after: 0 }, { value: 2, after: 5 }]);
    const started = performance.now();
    expect(await collect(inBatches(source, 10, 10_000))).to.deep.equal([[1, 2]]);
    expect(performance.now() - started).to.be.below(5000);
  });

  it('yields what it took before the source failed while lingering, then the failure, and leaves no timer armed', async () => {
    async function* oneThenFail(): AsyncGenerator<number> {
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('subscription failed');
    }
    // The linger timers (1 s here) inBatches arms, to see that none is left running.
    const original = globalThis.setTimeout;
    const lingerTimers: NodeJS.Timeout[] = [];
    globalThis.setTimeout = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = original(handler, ms, ...args);
      if ((ms ?? 0) >= 500) lingerTimers.push(timer);
      return timer;
    }) as typeof setTimeout;
    const yielded: number[][] = [];
    const error = await (async () => {
      for await (const batch of inBatches(oneThenFail(), 10, 1000)) yielded.push(batch);
    })()
      .then(() => undefined, (failure: unknown) => failure)
      .finally(() => (globalThis.setTimeout = original));
    expect(String(error)).to.match(/subscription failed/);
    expect(yielded).to.deep.equal([[1]]);
    expect(lingerTimers).to.have.length(1);
    expect(lingerTimers.filter((timer) => !(timer as unknown as { _destroyed: boolean })._destroyed)).to.deep.equal([]);
  });

  describe('when the source fails while the consumer holds a full batch', () => {
    let unhandled: unknown[] = [];
    let mochaListeners: NodeJS.UnhandledRejectionListener[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    beforeEach(() => {
      unhandled = [];
      mochaListeners = process.listeners('unhandledRejection');
      process.removeAllListeners('unhandledRejection');
      process.on('unhandledRejection', record);
    });
    afterEach(() => {
      process.removeListener('unhandledRejection', record);
      for (const listener of mochaListeners) process.on('unhandledRejection', listener);
    });

    for (const lingerMs of [0, 5]) {
      it(`reports the failure to the consumer only, never as an unhandled rejection (linger ${lingerMs} ms)`, async () => {
        async function* failingAfterTwo(): AsyncGenerator<number> {
          yield 1;
          yield 2;
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw new Error('subscription failed');
        }
        const batches = inBatches(failingAfterTwo(), 2, lingerMs);
        expect((await batches.next()).value).to.deep.equal([1, 2]);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the consumer works on the batch
        const error = await batches.next().then(() => undefined, (failure: unknown) => failure);
        expect(String(error)).to.match(/subscription failed/);
        expect(unhandled).to.deep.equal([]);
      });
    }
  });
});
