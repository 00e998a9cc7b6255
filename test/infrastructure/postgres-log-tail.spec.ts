import { expect } from 'chai';
import type { RecordedEvent, Subscription } from '../../infrastructure/event-store/event-store.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';

/** Counts the pool's reads of the log (every read goes through the visibility horizon). */
const countLogReads = (pool: { query: (...args: never[]) => unknown }) => {
  let reads = 0;
  const query = pool.query.bind(pool);
  pool.query = ((...args: never[]) => {
    if (typeof args[0] === 'string' && (args[0] as string).includes('tally_visible_before')) reads++;
    return query(...args);
  }) as typeof pool.query;
  return () => reads;
};

const take = async (subscription: Subscription, count: number, pauseAfter?: { at: number; until: Promise<unknown> }): Promise<RecordedEvent[]> => {
  const seen: RecordedEvent[] = [];
  for await (const event of subscription) {
    seen.push(event);
    if (pauseAfter && seen.length === pauseAfter.at) await pauseAfter.until;
    if (seen.length === count) break;
  }
  await subscription.close();
  return seen;
};

/** One reader of the log's head per process, fanned out to every subscriber (log-tail.ts). */
describe('PostgreSQL event store: the shared reader of the log head', function () {
  this.timeout(60_000);

  it('serves many live subscribers with one read per write, not one each', async () => {
    const underTest = await createPostgresStoreForTest();
    try {
      const { store, pool } = underTest;
      const start = await store.appendToStream('start', [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
      const reads = countLogReads(pool as never);
      const subscribers = 5;
      const appends = 40;
      const readers = Array.from({ length: subscribers }, (_, i) =>
        take(store.subscribeToAll({ fromPosition: start.position, filter: i % 2 === 0 ? undefined : { eventTypes: ['Numbered'] } }), appends));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = reads();
      for (let n = 0; n < appends; n++) {
        await store.appendToStream(`s-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const seen = await Promise.all(readers);
      for (const events of seen) expect(events.map((event) => event.data.n)).to.deep.equal(Array.from({ length: appends }, (_, n) => n));
      // One reader: about one read per append (and a few polls), where each subscriber used to read for itself.
      expect(reads() - before).to.be.below(appends * 2);
    } finally {
      await underTest.stop();
    }
  });

  it('lets a subscriber that falls behind what the tail keeps read its own pages and rejoin, without gap or duplicate', async () => {
    const underTest = await createPostgresStoreForTest({ tailCapacity: 20 });
    try {
      const { store } = underTest;
      const start = await store.appendToStream('start', [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
      const total = 300;
      let resume!: () => void;
      const paused = new Promise((resolve) => (resume = () => resolve(undefined)));
      // A quick subscriber keeps the tail moving; a slow one stops after 10 events while 250 more arrive.
      const quick = take(store.subscribeToAll({ fromPosition: start.position }), total);
      const slow = take(store.subscribeToAll({ fromPosition: start.position, filter: { eventTypes: ['Numbered'] } }), total, { at: 10, until: paused });
      for (let n = 0; n < total; n++) {
        await store.appendToStream(`s-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' });
        if (n === 260) resume();
      }
      // And one that starts from the beginning, long after the tail started.
      const late = await take(store.subscribeToAll({}), total + 1);
      const expected = Array.from({ length: total }, (_, n) => n);
      expect((await quick).map((event) => event.data.n)).to.deep.equal(expected);
      expect((await slow).map((event) => event.data.n)).to.deep.equal(expected);
      expect(late.slice(1).map((event) => event.data.n)).to.deep.equal(expected);
    } finally {
      await underTest.stop();
    }
  });
});
