import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createEsdbEventStore } from '../../infrastructure/event-store/esdb/esdb-event-store.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { eventStoreContract, readUntil } from './event-store-contract.ts';

/** Over real gRPC: a real server when EVENTSTORE_CONNECTION_STRING is set, else the test double. */
eventStoreContract('EventStoreDB', async () => {
  const real = process.env.EVENTSTORE_CONNECTION_STRING;
  const server = real ? undefined : await startEsdbTestServer();
  const store = createEsdbEventStore({ connectionString: real ?? server!.connectionString });
  return {
    store,
    // A real server writes its own events on its own schedule; the double on demand.
    writeForeignEvent: server ? async () => server.appendSystemEvent() : undefined,
    teardown: async () => {
      await store.close();
      await server?.stop();
    },
  };
});

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
