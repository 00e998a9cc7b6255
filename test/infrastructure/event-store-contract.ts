import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ConcurrencyError, type EventStore, type RecordedEvent, type Subscription } from '../../infrastructure/event-store/event-store.ts';

export interface EventStoreUnderTest {
  readonly store: EventStore;
  /**
   * Writes what the store holds for itself and Tally must never show or count
   * (EventStoreDB: a system event); none where a store has no such thing.
   */
  readonly writeForeignEvent?: () => Promise<void>;
  teardown(): Promise<void>;
}

/** Streams of one test: a unique prefix keeps tests apart on a shared server. */
const streams = () => {
  const prefix = `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  return { prefix, name: (suffix: string | number) => `${prefix}-${suffix}` };
};

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

const event = (type = 'Happened', data: Record<string, unknown> = { n: 1 }) => ({ type, data: data as never });

/** Reads from a subscription until `until` holds for what was read, or fails after `timeoutMs`. */
export const readUntil = async (subscription: Subscription, until: (seen: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> => {
  const seen: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const recorded of subscription) {
      seen.push(recorded);
      if (until(seen)) break;
    }
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
  return seen;
};

/**
 * The event store contract (DESIGN §3). Every adapter runs it; what passes here
 * is what "the same behaviour" means.
 */
export const eventStoreContract = (adapterName: string, create: () => Promise<EventStoreUnderTest>): void => {
  describe(`event store contract: ${adapterName}`, function () {
    this.timeout(60_000);
    let underTest: EventStoreUnderTest;
    let store: EventStore;
    before(async () => {
      underTest = await create();
      store = underTest.store;
    });
    after(async () => underTest?.teardown());
    const foreign = async (): Promise<void> => underTest.writeForeignEvent?.();

    describe('appendToStream', () => {
      it('creates a stream with no_stream and returns revision and position as a string', async () => {
        const s = streams();
        const result = await store.appendToStream(s.name(1), [event(), event()], { expectedRevision: 'no_stream' });
        expect(result.nextRevision).to.equal(1n);
        expect(result.position).to.be.a('string');
        expect(JSON.parse(JSON.stringify({ position: result.position })).position).to.equal(result.position);
      });

      it('refuses no_stream on an existing stream with expected and actual', async () => {
        const s = streams();
        await store.appendToStream(s.name(1), [event()], { expectedRevision: 'no_stream' });
        const error = await store.appendToStream(s.name(1), [event()], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).expected).to.equal('no_stream');
        expect((error as ConcurrencyError).actual).to.equal(0n);
      });

      it('appends at an exact revision and refuses a stale one', async () => {
        const s = streams();
        await store.appendToStream(s.name(1), [event(), event()], { expectedRevision: 'no_stream' });
        expect((await store.appendToStream(s.name(1), [event()], { expectedRevision: 1n })).nextRevision).to.equal(2n);
        const error = await store.appendToStream(s.name(1), [event()], { expectedRevision: 1n }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).expected).to.equal(1n);
        expect((error as ConcurrencyError).actual).to.equal(2n);
      });

      it('refuses an exact revision on a stream that does not exist', async () => {
        const error = await store.appendToStream(streams().name(1), [event()], { expectedRevision: 0n }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).actual).to.equal('no_stream');
      });

      it('stream_exists appends to an existing stream and refuses a missing one', async () => {
        const s = streams();
        const error = await store.appendToStream(s.name(1), [event()], { expectedRevision: 'stream_exists' }).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConcurrencyError);
        await store.appendToStream(s.name(1), [event()], { expectedRevision: 'no_stream' });
        expect((await store.appendToStream(s.name(1), [event()], { expectedRevision: 'stream_exists' })).nextRevision).to.equal(1n);
      });

      it('any appends whether or not the stream exists', async () => {
        const s = streams();
        expect((await store.appendToStream(s.name(1), [event()], { expectedRevision: 'any' })).nextRevision).to.equal(0n);
        expect((await store.appendToStream(s.name(1), [event()], { expectedRevision: 'any' })).nextRevision).to.equal(1n);
      });

      it('lets exactly one of many concurrent writers win the same expected revision', async () => {
        const s = streams();
        await store.appendToStream(s.name(1), [event()], { expectedRevision: 'no_stream' });
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.appendToStream(s.name(1), [event()], { expectedRevision: 0n })));
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(ConcurrencyError);
      });

      it('round-trips data, metadata, ids and types; unicode and payloads near 1 MiB included', async () => {
        const s = streams();
        const id = randomUUID();
        // Just under EventStoreDB's default append limit (1,048,576 bytes of data, metadata and type).
        const big = 'x'.repeat(1024 * 1024 - 1024);
        const data = { text: 'Grüße, 世界 🎉', nested: { list: [1, 2.5, null, true] }, big };
        const metadata = { correlationId: 'corr-1', causationId: 'cause-1', actor: 'tester', schemaVersion: 1 };
        await store.appendToStream(s.name(1), [{ id, type: 'Ünïcode', data, metadata }], { expectedRevision: 'no_stream' });
        const [read] = await collect(store.readStream(s.name(1)));
        expect(read!.id).to.equal(id);
        expect(read!.type).to.equal('Ünïcode');
        expect(read!.data).to.deep.equal(data);
        expect(read!.metadata).to.deep.include(metadata);
        expect(read!.streamId).to.equal(s.name(1));
        expect(read!.revision).to.equal(0n);
        expect(read!.recordedAt).to.be.instanceOf(Date);
      });
    });

    describe('appendToStreams', () => {
      it('appends to many streams at once, each checked against its own revision', async () => {
        const s = streams();
        await store.appendToStream(s.name('old'), [event()], { expectedRevision: 'no_stream' });
        const results = await store.appendToStreams([
          { streamId: s.name('a'), events: [event('Numbered', { n: 1 }), event('Numbered', { n: 2 })], expectedRevision: 'no_stream' },
          { streamId: s.name('old'), events: [event('Numbered', { n: 3 })], expectedRevision: 'no_stream' },
          { streamId: s.name('old'), events: [event('Numbered', { n: 4 })], expectedRevision: 0n },
          { streamId: s.name('b'), events: [event('Numbered', { n: 5 })], expectedRevision: 'any' },
          { streamId: s.name('missing'), events: [event('Numbered', { n: 6 })], expectedRevision: 'stream_exists' },
        ]);
        expect(results.map((result) => result.ok)).to.deep.equal([true, false, true, true, false]);
        const [a, refused, old, b, missing] = results;
        expect(a).to.deep.include({ ok: true, nextRevision: 1n });
        expect(old).to.deep.include({ ok: true, nextRevision: 1n });
        expect(b).to.deep.include({ ok: true, nextRevision: 0n });
        if (refused?.ok !== false || missing?.ok !== false) throw new Error('expected refusals');
        expect(refused.error).to.be.instanceOf(ConcurrencyError);
        expect(refused.error).to.deep.include({ streamId: s.name('old'), expected: 'no_stream', actual: 0n });
        expect(missing.error).to.deep.include({ expected: 'stream_exists', actual: 'no_stream' });
        expect((await collect(store.readStream(s.name('old')))).map((e) => e.data.n)).to.deep.equal([1, 4]);
        expect((await collect(store.readStream(s.name('a')))).map((e) => e.data.n)).to.deep.equal([1, 2]);
        // Across streams the order is the store's (PostgreSQL keeps the order given; EventStoreDB appends at once).
        const all = (await collect(store.readAll())).filter((e) => e.streamId.startsWith(s.prefix));
        expect(all.map((e) => e.data.n).sort()).to.deep.equal([1, 1, 2, 4, 5]);
        for (const result of [a, old, b]) expect(all.map((e) => e.position)).to.include(result?.ok ? result.position : '');
      });

      it('answers a batch of one stream as it answers many: its revision, or a ConcurrencyError with the actual one', async () => {
        const s = streams();
        const [created] = await store.appendToStreams([{ streamId: s.name('one'), events: [event('Numbered', { n: 1 }), event('Numbered', { n: 2 })], expectedRevision: 'no_stream' }]);
        expect(created).to.deep.include({ ok: true, nextRevision: 1n });
        const [stale] = await store.appendToStreams([{ streamId: s.name('one'), events: [event('Numbered', { n: 3 })], expectedRevision: 0n }]);
        if (stale?.ok !== false) throw new Error('expected a refusal');
        expect(stale.error).to.be.instanceOf(ConcurrencyError);
        expect(stale.error).to.deep.include({ streamId: s.name('one'), expected: 0n, actual: 1n });
        const [moved] = await store.appendToStreams([{ streamId: s.name('one'), events: [event('Numbered', { n: 4 })], expectedRevision: 1n }]);
        expect(moved).to.deep.include({ ok: true, nextRevision: 2n });
        const [missing] = await store.appendToStreams([{ streamId: s.name('none'), events: [event()], expectedRevision: 'stream_exists' }]);
        if (missing?.ok !== false) throw new Error('expected a refusal');
        expect(missing.error).to.deep.include({ expected: 'stream_exists', actual: 'no_stream' });
        expect((await collect(store.readStream(s.name('one')))).map((e) => e.data.n)).to.deep.equal([1, 2, 4]);
      });

      it('lets exactly one of many concurrent batches create the same stream', async () => {
        const s = streams();
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, n) => store.appendToStreams([{ streamId: s.name('shared'), events: [event('Numbered', { n })], expectedRevision: 'no_stream' }])),
        );
        expect(results.flat().filter((result) => result.ok)).to.have.length(1);
        expect(await collect(store.readStream(s.name('shared')))).to.have.length(1);
      });

      it('gives concurrent batches on the same existing streams each their own revisions, and one winner per expected revision', async () => {
        const s = streams();
        const names = ['x', 'y', 'z'].map((name) => s.name(name));
        for (const name of names) await store.appendToStream(name, [event()], { expectedRevision: 'no_stream' });
        const batches = 8;
        const anyResults = await Promise.all(
          Array.from({ length: batches }, (_, n) => store.appendToStreams(names.map((streamId) => ({ streamId, events: [event('Numbered', { n }), event('Numbered', { n })], expectedRevision: 'any' as const })))),
        );
        expect(anyResults.flat().every((result) => result.ok)).to.equal(true);
        for (const name of names) {
          const events = await collect(store.readStream(name));
          expect(events.map((e) => e.revision)).to.deep.equal(Array.from({ length: 1 + 2 * batches }, (_, n) => BigInt(n)));
          // Each batch's two events sit side by side: a batch claims its revisions at once.
          for (let at = 1; at < events.length; at += 2) expect(events[at]!.data.n).to.equal(events[at + 1]!.data.n);
        }
        const exact = await Promise.all(
          Array.from({ length: batches }, (_, n) => store.appendToStreams(names.map((streamId) => ({ streamId, events: [event('Numbered', { n })], expectedRevision: BigInt(2 * batches) })))),
        );
        for (let item = 0; item < names.length; item++) expect(exact.filter((results) => results[item]!.ok)).to.have.length(1);
      });
    });

    describe('readStream', () => {
      let s: ReturnType<typeof streams>;
      before(async () => {
        s = streams();
        await store.appendToStream(s.name(1), Array.from({ length: 10 }, (_, n) => event('Numbered', { n })), { expectedRevision: 'no_stream' });
      });

      it('reads forwards in revision order', async () => {
        const read = await collect(store.readStream(s.name(1)));
        expect(read.map((e) => e.data.n)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(read.map((e) => e.revision)).to.deep.equal([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
      });

      it('reads backwards', async () => {
        const read = await collect(store.readStream(s.name(1), { direction: 'backwards', maxCount: 3 }));
        expect(read.map((e) => e.revision)).to.deep.equal([9n, 8n, 7n]);
      });

      it('reads from a revision with maxCount', async () => {
        const read = await collect(store.readStream(s.name(1), { fromRevision: 4n, maxCount: 2 }));
        expect(read.map((e) => e.revision)).to.deep.equal([4n, 5n]);
      });

      it('reads backwards from a revision', async () => {
        const read = await collect(store.readStream(s.name(1), { fromRevision: 2n, direction: 'backwards' }));
        expect(read.map((e) => e.revision)).to.deep.equal([2n, 1n, 0n]);
      });

      it('reads nothing from a stream that does not exist', async () => {
        expect(await collect(store.readStream(streams().name('missing')))).to.deep.equal([]);
      });
    });

    describe('readAll', () => {
      it('reads every stream in position order after a position, exclusive', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        for (let i = 0; i < 5; i++) await store.appendToStream(s.name(i % 2), [event('Numbered', { i })], { expectedRevision: 'any' });
        const read = (await collect(store.readAll({ fromPosition: start.position }))).filter((e) => e.streamId.startsWith(s.prefix));
        expect(read.map((e) => e.data.i)).to.deep.equal([0, 1, 2, 3, 4]);
        const positions = read.map((e) => e.position);
        expect([...positions].sort()).to.deep.equal(positions);
        expect(new Set(positions).size).to.equal(positions.length);
      });

      it('reads many streams back, each in its own order', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        await Promise.all(Array.from({ length: 200 }, (_, n) => store.appendToStream(s.name(n), [event('Numbered', { n, i: 0 }), event('Numbered', { n, i: 1 })], { expectedRevision: 'no_stream' })));
        const read = (await collect(store.readAll({ fromPosition: start.position }))).filter((e) => e.streamId.startsWith(`${s.prefix}-`));
        expect(read).to.have.length(400);
        for (let n = 0; n < 200; n++) {
          expect(read.filter((e) => e.streamId === s.name(n)).map((e) => [e.data.i, e.revision])).to.deep.equal([[0, 0n], [1, 1n]]);
        }
      });

      it('honours maxCount', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        await store.appendToStream(s.name(1), [event(), event(), event()], { expectedRevision: 'no_stream' });
        expect(await collect(store.readAll({ fromPosition: start.position, maxCount: 2 }))).to.have.length(2);
      });
    });

    describe('countAfter', () => {
      it('counts what readAll would read after a position, up to a cap, with when the oldest was recorded', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        for (let n = 0; n < 5; n++) await store.appendToStream(s.name(n), [event('Numbered', { n })], { expectedRevision: 'no_stream' });
        const read = await collect(store.readAll({ fromPosition: start.position }));
        expect(read).to.have.length(5);
        const oldest = new Date(Math.min(...read.map((e) => e.recordedAt.getTime())));
        expect(await store.countAfter(start.position, 100)).to.deep.equal({ events: 5, oldestRecordedAt: oldest });
        expect(await store.countAfter(start.position, 3)).to.deep.equal({ events: 3, oldestRecordedAt: oldest });
        expect(await store.countAfter(read[4]!.position, 100)).to.deep.equal({ events: 0, oldestRecordedAt: undefined });
        // From the start of the log: everything, this test's among it.
        const all = await collect(store.readAll());
        expect((await store.countAfter(undefined, all.length + 100)).events).to.equal(all.length);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then goes live', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        await store.appendToStream(s.name(1), [event('Numbered', { n: 0 }), event('Numbered', { n: 1 })], { expectedRevision: 'no_stream' });
        const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [s.prefix] } });
        const reading = readUntil(subscription, (seen) => seen.length >= 4);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.appendToStream(s.name(2), [event('Numbered', { n: 2 }), event('Numbered', { n: 3 })], { expectedRevision: 'no_stream' });
        expect((await reading).map((e) => e.data.n)).to.deep.equal([0, 1, 2, 3]);
      });

      it('resumes after the last position it delivered, without gap or duplicate', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        for (let n = 0; n < 6; n++) await store.appendToStream(s.name(n), [event('Numbered', { n })], { expectedRevision: 'no_stream' });
        const first = await readUntil(store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [s.prefix] } }), (seen) => seen.length === 3);
        const rest = await readUntil(store.subscribeToAll({ fromPosition: first[2]!.position, filter: { streamPrefixes: [s.prefix] } }), (seen) => seen.length === 3);
        expect([...first, ...rest].map((e) => e.data.n)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      });

      it('filters by event type and by stream prefix', async () => {
        const s = streams();
        const other = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        await store.appendToStream(other.name(1), [event('Wanted', { n: -1 })], { expectedRevision: 'no_stream' });
        await store.appendToStream(s.name(1), [event('Unwanted', { n: 0 }), event('Wanted', { n: 1 })], { expectedRevision: 'no_stream' });
        await store.appendToStream(s.name(2), [event('Wanted', { n: 2 })], { expectedRevision: 'no_stream' });
        const byType = await readUntil(
          store.subscribeToAll({ fromPosition: start.position, filter: { eventTypes: ['Wanted'], streamPrefixes: [s.prefix] } }),
          (seen) => seen.length === 2,
        );
        expect(byType.map((e) => e.data.n)).to.deep.equal([1, 2]);
      });

      it("never shows nor counts the store's own events, in catch-up and live", async () => {
        const s = streams();
        await foreign();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        await foreign();
        await store.appendToStream(s.name(1), [event('Numbered', { n: 0 })], { expectedRevision: 'no_stream' });
        await foreign();
        await foreign();
        const last = await store.appendToStream(s.name(2), [event('Numbered', { n: 1 })], { expectedRevision: 'no_stream' });
        await foreign();
        const read = await collect(store.readAll({ fromPosition: start.position }));
        expect(read.map((e) => e.data.n)).to.deep.equal([0, 1]);
        expect(await store.headPosition()).to.equal(last.position);
        expect((await store.countAfter(start.position, 100)).events).to.equal(2);

        const subscription = store.subscribeToAll({ fromPosition: start.position });
        const reading = readUntil(subscription, (seen) => seen.length >= 3);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await foreign();
        await store.appendToStream(s.name(3), [event('Numbered', { n: 2 })], { expectedRevision: 'no_stream' });
        await foreign();
        const seen = await reading;
        expect(seen.map((e) => e.data.n)).to.deep.equal([0, 1, 2]);
        for (const e of seen) expect(e.streamId.startsWith(s.prefix) && !e.type.startsWith('$')).to.equal(true);
      });

      it('moves its position past filtered-out events, on a delivered event or between two, and resumes from there without gap or duplicate', async () => {
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        const wanted: string[] = [];
        const unwanted = (round: number) =>
          store.appendToStreams(Array.from({ length: 100 }, (_, i) => ({ streamId: s.name(`u${round}-${i}`), events: [event('Other', { n: -1 })], expectedRevision: 'no_stream' as const })));
        for (let n = 0; n < 3; n++) {
          wanted.push((await store.appendToStream(s.name(`w${n}`), [event('Numbered', { n })], { expectedRevision: 'no_stream' })).position);
          await unwanted(n);
        }
        const filter = { streamPrefixes: [s.name('w')] };
        const subscription = store.subscribeToAll({ fromPosition: start.position, filter });
        const seen: RecordedEvent[] = [];
        const reading = (async () => {
          for await (const recorded of subscription) seen.push(recorded);
        })();
        // Every wanted event read, the subscriber idle: its position still moves, past the unwanted ones after the last.
        for (let waited = 0; !(seen.length === 3 && subscription.position()! > wanted[2]!); waited += 20) {
          if (waited > 20_000) throw new Error(`stuck at ${subscription.position()} after ${seen.length} events`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const between = subscription.position()!;
        await subscription.close();
        await reading;
        expect(seen.map((e) => e.data.n)).to.deep.equal([0, 1, 2]);
        const next = await store.appendToStream(s.name('w3'), [event('Numbered', { n: 3 })], { expectedRevision: 'no_stream' });
        expect(between < next.position).to.equal(true);
        const fromBetween = await readUntil(store.subscribeToAll({ fromPosition: between, filter }), (read) => read.length >= 1);
        expect(fromBetween.map((e) => e.data.n)).to.deep.equal([3]);
        const fromDelivered = await readUntil(store.subscribeToAll({ fromPosition: wanted[1], filter }), (read) => read.length >= 2);
        expect(fromDelivered.map((e) => e.data.n)).to.deep.equal([2, 3]);
      });

      it('delivers every event of many concurrent writers exactly once, in position order', async function () {
        this.timeout(120_000);
        const s = streams();
        const start = await store.appendToStream(s.name('start'), [event()], { expectedRevision: 'no_stream' });
        const writers = 16;
        const perWriter = 25;
        const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [`${s.prefix}-w`] } });
        const reading = readUntil(subscription, (seen) => seen.length >= writers * perWriter, 60_000);
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              // Streams shared by a few writers, so that some appends also race on the same stream.
              await store.appendToStream(s.name(`w${(w + i) % 5}`), [event('Numbered', { w, i })], { expectedRevision: 'any' });
            }
          }),
        );
        const seen = await reading;
        expect(seen).to.have.length(writers * perWriter);
        expect(new Set(seen.map((e) => `${e.data.w}/${e.data.i}`)).size).to.equal(writers * perWriter);
        const positions = seen.map((e) => e.position);
        expect([...positions].sort()).to.deep.equal(positions);
      });
    });
  });
};
