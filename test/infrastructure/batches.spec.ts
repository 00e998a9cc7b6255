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
});
