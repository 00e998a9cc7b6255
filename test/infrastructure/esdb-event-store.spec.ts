import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createEsdbEventStore } from '../../infrastructure/event-store/esdb/esdb-event-store.ts';
import { AppendTooLargeError, ConcurrencyError, type EventStore, type ExpectedRevision } from '../../infrastructure/event-store/event-store.ts';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { eventStoreContract, readUntil } from './event-store-contract.ts';

/**
 * Over real gRPC: the test double once per way the client appends (BatchAppend,
 * as to a 22.x-24.x server; the classic Append, as to an older one), and the
 * real server EVENTSTORE_CONNECTION_STRING names when it is set.
 */

for (const appendMode of ['batch', 'classic'] as const) {
  eventStoreContract(`EventStoreDB (${appendMode} append)`, async () => {
    const server = await startEsdbTestServer({ appendMode });
    const store = createEsdbEventStore({ connectionString: server.connectionString });
    return {
      store,
      // The double writes its own events on demand.
      writeForeignEvent: async () => server.appendSystemEvent(),
      teardown: async () => {
        await store.close();
        await server.stop();
      },
    };
  });
}
if (process.env.EVENTSTORE_CONNECTION_STRING) {
  eventStoreContract('EventStoreDB (real server)', async () => {
    const store = createEsdbEventStore({ connectionString: process.env.EVENTSTORE_CONNECTION_STRING! });
    // A real server writes its own events on its own schedule.
    return { store, writeForeignEvent: undefined, teardown: () => store.close() };
  });
}

for (const appendMode of ['batch', 'classic'] as const) {
  describe(`EventStoreDB adapter, refused appends (${appendMode} append, on the test double)`, () => {
    const maxAppendSizeBytes = 4096;
    let server: EsdbTestServer;
    let store: EventStore;

    before(async () => {
      server = await startEsdbTestServer({ appendMode, maxAppendSizeBytes });
      // The client is told not to throw on a refused append: the adapter must not depend on what it would answer then.
      store = createEsdbEventStore({ connectionString: `${server.connectionString}&throwOnAppendFailure=false` });
    });
    after(async () => {
      await store?.close();
      await server?.stop();
    });

    const revisions = async (streamId: string) => {
      const read: bigint[] = [];
      for await (const event of store.readStream(streamId)) read.push(event.revision);
      return read;
    };
    const refusal = (streamId: string, expectedRevision: ExpectedRevision, data: Record<string, unknown> = {}) =>
      store.appendToStream(streamId, [{ type: 'Tried', data: data as never }], { expectedRevision }).then(
        () => expect.fail('the append should have been refused'),
        (error: unknown) => error,
      );

    it('goes through the call the client picks for this server', async () => {
      await store.appendToStream(`picked-${randomUUID()}`, [{ type: 'A', data: {} }], { expectedRevision: 'no_stream' });
      expect(server.calls(appendMode === 'batch' ? 'Streams.BatchAppend' : 'Streams.Append')).to.be.greaterThan(0);
      expect(server.calls(appendMode === 'batch' ? 'Streams.Append' : 'Streams.BatchAppend')).to.equal(0);
    });

    it('a revision mismatch is a ConcurrencyError with the expected and the actual revision, for each kind of expectation', async () => {
      const stream = `conflict-${randomUUID()}`;
      await store.appendToStream(stream, [{ type: 'A', data: {} }, { type: 'B', data: {} }], { expectedRevision: 'no_stream' });
      const cases: [string, ExpectedRevision, bigint | 'no_stream'][] = [
        [stream, 'no_stream', 1n],
        [stream, 0n, 1n],
        [stream, 5n, 1n],
        [`missing-${randomUUID()}`, 'stream_exists', 'no_stream'],
        [`missing-${randomUUID()}`, 3n, 'no_stream'],
      ];
      for (const [streamId, expected, actual] of cases) {
        const error = await refusal(streamId, expected);
        expect(error, `${streamId} expecting ${String(expected)}`).to.be.instanceOf(ConcurrencyError);
        expect(error).to.include({ streamId, expected, actual });
      }
      expect(await revisions(stream)).to.deep.equal([0n, 1n]);
      // 'any' is never refused; a right expectation goes through.
      expect((await store.appendToStream(stream, [{ type: 'C', data: {} }], { expectedRevision: 'any' })).nextRevision).to.equal(2n);
      expect((await store.appendToStream(stream, [{ type: 'D', data: {} }], { expectedRevision: 2n })).nextRevision).to.equal(3n);
    });

    it('an append larger than the server takes is an AppendTooLargeError naming the limit, and nothing of it is written', async () => {
      const stream = `big-${randomUUID()}`;
      const error = await refusal(stream, 'no_stream', { text: 'x'.repeat(maxAppendSizeBytes) });
      expect(error).to.be.instanceOf(AppendTooLargeError);
      expect(error).to.include({ streamId: stream, maxAppendSizeBytes });
      expect(await revisions(stream)).to.deep.equal([]);
      // Events too large only together.
      const parts = Array.from({ length: 4 }, () => ({ type: 'Part', data: { text: 'x'.repeat(maxAppendSizeBytes / 4) } }));
      expect(await store.appendToStream(stream, parts, { expectedRevision: 'no_stream' }).catch((caught: unknown) => caught)).to.be.instanceOf(AppendTooLargeError);
      expect(await revisions(stream)).to.deep.equal([]);
    });

    it('in appendToStreams, an append too large is refused in its place only: the others are written', async () => {
      const [small, big, other] = ['small', 'big', 'other'].map((name) => `${name}-${randomUUID()}`) as [string, string, string];
      const results = await store.appendToStreams([
        { streamId: small, events: [{ type: 'A', data: {} }], expectedRevision: 'no_stream' },
        { streamId: big, events: [{ type: 'A', data: { text: 'x'.repeat(maxAppendSizeBytes) } }], expectedRevision: 'no_stream' },
        { streamId: other, events: [{ type: 'A', data: {} }], expectedRevision: 'no_stream' },
      ]);
      expect(results.map((result) => result.ok)).to.deep.equal([true, false, true]);
      const refused = results[1]!;
      expect(refused.ok ? undefined : refused.error).to.be.instanceOf(AppendTooLargeError).and.include({ streamId: big, maxAppendSizeBytes });
      expect(await revisions(small)).to.deep.equal([0n]);
      expect(await revisions(big)).to.deep.equal([]);
      expect(await revisions(other)).to.deep.equal([0n]);
    });
  });
}

describe('EventStoreDB adapter, filter checkpoints', function () {
  this.timeout(30_000);
  it('never lets a checkpoint skip events still waiting for a slow consumer', async () => {
    const real = process.env.EVENTSTORE_CONNECTION_STRING;
    const server = real ? undefined : await startEsdbTestServer();
    const store = createEsdbEventStore({ connectionString: real ?? server!.connectionString });
    try {
      const prefix = `slow-${randomUUID().slice(0, 8)}`;
      const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
      for (let round = 0; round < 3; round++) {
        await store.appendToStream(`${prefix}-wanted-${round}`, Array.from({ length: 5 }, (_, i) => ({ type: 'Wanted', data: { n: round * 5 + i } })), { expectedRevision: 'no_stream' });
        // Enough unwanted events for the server to send filter checkpoints in between.
        await store.appendToStream(`${prefix}-other-${round}`, Array.from({ length: 200 }, () => ({ type: 'Other', data: {} })), { expectedRevision: 'no_stream' });
      }
      const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { eventTypes: ['Wanted'] } });
      const seen: number[] = [];
      const deadline = setTimeout(() => void subscription.close(), 20_000);
      for await (const event of subscription) {
        if (!event.streamId.startsWith(prefix)) continue;
        seen.push(event.data.n as number);
        if (seen.length === 15) break;
        // A slow consumer: the server's checkpoints reach the client while wanted events wait in its buffer.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      clearTimeout(deadline);
      await subscription.close();
      expect(seen).to.deep.equal(Array.from({ length: 15 }, (_, n) => n));
    } finally {
      await store.close();
      await server?.stop();
    }
  });
});

describe('EventStoreDB adapter, when the server drops a subscription', function () {
  this.timeout(30_000);
  let server: EsdbTestServer;
  let store: EventStore;
  const drops: unknown[] = [];

  before(async function () {
    if (process.env.EVENTSTORE_CONNECTION_STRING) {
      console.log('    (skipped: a real EventStoreDB cannot be told to drop subscriptions; these run on the test double)');
      return this.skip();
    }
    server = await startEsdbTestServer();
    store = createEsdbEventStore({ connectionString: server.connectionString, maxResubscribeDelayMs: 200, onResubscribe: (error) => drops.push(error) });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  for (const mode of ['end', 'error'] as const) {
    it(`resubscribes from the last delivered position after the call ${mode === 'end' ? 'ends' : 'breaks'}: no gap, no duplicate`, async () => {
      const prefix = `drop-${mode}-${randomUUID().slice(0, 8)}`;
      const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
      const append = (n: number) => store.appendToStream(`${prefix}-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' });
      for (let n = 0; n < 3; n++) await append(n);
      const dropsBefore = drops.length;
      const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [`${prefix}-`] } });
      const seen: number[] = [];
      const reading = readUntil(subscription, (events) => {
        seen.splice(0, seen.length, ...events.map((e) => e.data.n as number));
        return events.length >= 6;
      });
      for (let waited = 0; seen.length < 3; waited += 10) {
        if (waited > 10_000) throw new Error(`only ${seen.length} of 3 events arrived`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      server.breakSubscriptions(mode);
      for (let n = 3; n < 6; n++) await append(n);
      const events = await reading;
      expect(events.map((e) => e.data.n)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(drops.length).to.be.greaterThan(dropsBefore);
    });
  }
});
