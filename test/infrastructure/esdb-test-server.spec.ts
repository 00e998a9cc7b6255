import { once } from 'node:events';
import { expect } from 'chai';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Position,
} from '@eventstore/db-client';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';

/** A sanity check of the test double, through the real client over real gRPC. */
describe('EventStoreDB test server (a test double), through the real EventStoreDBClient', () => {
  let server: EsdbTestServer;
  let client: EventStoreDBClient;

  beforeEach(async () => {
    server = await startEsdbTestServer();
    client = EventStoreDBClient.connectionString(server.connectionString);
  });
  afterEach(async () => {
    await client.dispose();
    await server.stop();
  });

  const append = (stream: string, ...types: string[]) =>
    client.appendToStream(stream, types.map((type, n) => jsonEvent({ type, data: { n } })));
  const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
    const collected: T[] = [];
    for await (const item of items) collected.push(item);
    return collected;
  };
  const typesOf = (events: { event?: { type: string } }[]) => events.map((resolved) => resolved.event?.type);
  /** The first `count` events a subscription delivers. */
  const take = (subscription: AllStreamSubscription, count: number) =>
    new Promise<AllStreamResolvedEvent[]>((resolve, reject) => {
      const taken: AllStreamResolvedEvent[] = [];
      subscription.on('error', reject);
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        if (taken.push(resolved) === count) resolve(taken);
      });
    });

  it('appends with the classic Append call (no ServerFeatures) and reads the event back as written', async () => {
    const id = '6f1c5b7e-1d2a-4c3b-9a8d-0e1f2a3b4c5d';
    const result = await client.appendToStream('order-1', jsonEvent({ id, type: 'Placed', data: { total: 3 }, metadata: { actor: 'ann' } }));
    expect(result.success).to.equal(true);
    expect(result.nextExpectedRevision).to.equal(0n);

    const [read] = await collect(client.readStream('order-1'));
    expect(read?.event).to.include({ id, type: 'Placed', streamId: 'order-1', revision: 0n, isJson: true });
    expect(read?.event?.data).to.deep.equal({ total: 3 });
    expect(read?.event?.metadata).to.deep.equal({ actor: 'ann' });
    expect(read?.event?.position).to.deep.equal(result.position);
    expect(Math.abs(read!.event!.created.getTime() - Date.now())).to.be.lessThan(5_000);
  });

  it('checks the expected revision and reports the expected and actual values', async () => {
    await append('s', 'A', 'B');
    const rejection = (expectedRevision: bigint | typeof NO_STREAM | typeof STREAM_EXISTS, stream = 's') =>
      client.appendToStream(stream, jsonEvent({ type: 'C', data: {} }), { expectedRevision }).then(
        () => expect.fail('the append should have been rejected'),
        (error: unknown) => {
          expect(error).to.be.instanceOf(WrongExpectedVersionError);
          const { expectedVersion, actualVersion } = error as WrongExpectedVersionError;
          return { expectedVersion, actualVersion };
        },
      );
    expect(await rejection(NO_STREAM)).to.deep.equal({ expectedVersion: 'no_stream', actualVersion: 1n });
    expect(await rejection(0n)).to.deep.equal({ expectedVersion: 0n, actualVersion: 1n });
    expect(await rejection(STREAM_EXISTS, 'missing')).to.deep.equal({ expectedVersion: 'stream_exists', actualVersion: 'no_stream' });
    expect(await rejection(4n, 'missing')).to.deep.equal({ expectedVersion: 4n, actualVersion: 'no_stream' });

    expect((await client.appendToStream('s', jsonEvent({ type: 'C', data: {} }), { expectedRevision: 1n })).nextExpectedRevision).to.equal(2n);
    expect((await client.appendToStream('s', jsonEvent({ type: 'D', data: {} }), { expectedRevision: STREAM_EXISTS })).nextExpectedRevision).to.equal(3n);
    expect((await client.appendToStream('new', jsonEvent({ type: 'A', data: {} }), { expectedRevision: NO_STREAM })).nextExpectedRevision).to.equal(0n);
  });

  it('reads a stream forwards and backwards, from start, end or a revision, with a count; a missing stream is StreamNotFoundError', async () => {
    await append('s', 'A', 'B', 'C', 'D');
    expect(typesOf(await collect(client.readStream('s')))).to.deep.equal(['A', 'B', 'C', 'D']);
    expect(typesOf(await collect(client.readStream('s', { fromRevision: 1n, maxCount: 2 })))).to.deep.equal(['B', 'C']);
    expect(typesOf(await collect(client.readStream('s', { direction: BACKWARDS, fromRevision: END, maxCount: 3 })))).to.deep.equal(['D', 'C', 'B']);
    expect(typesOf(await collect(client.readStream('s', { direction: BACKWARDS, fromRevision: 1n })))).to.deep.equal(['B', 'A']);
    expect(await collect(client.readStream('s', { fromRevision: END }))).to.deep.equal([]);
    const missing = await collect(client.readStream('missing')).catch((error: unknown) => error);
    expect(missing).to.be.instanceOf(StreamNotFoundError);
  });

  it('reads $all forwards (a position included) and backwards (a position excluded), with increasing positions', async () => {
    await append('a', 'A1', 'A2');
    await append('b', 'B1');
    await append('a', 'A3');
    const all = await collect(client.readAll());
    expect(typesOf(all)).to.deep.equal(['A1', 'A2', 'B1', 'A3']);
    const positions = all.map((resolved) => resolved.event!.position);
    for (const [n, position] of positions.entries()) {
      expect(position.prepare).to.equal(position.commit);
      if (n > 0) expect(position.commit > positions[n - 1]!.commit).to.equal(true);
    }
    expect(typesOf(await collect(client.readAll({ fromPosition: positions[1]!, maxCount: 2 })))).to.deep.equal(['A2', 'B1']);
    expect(typesOf(await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 2 })))).to.deep.equal(['A3', 'B1']);
    expect(typesOf(await collect(client.readAll({ direction: BACKWARDS, fromPosition: positions[2]! })))).to.deep.equal(['A2', 'A1']);
  });

  describe('subscriptions to $all', () => {
    it('confirm, catch up from the start, say caught up, then deliver live events', async () => {
      await append('s', 'A', 'B');
      const subscription = client.subscribeToAll({ fromPosition: START });
      const confirmed = once(subscription, 'confirmation');
      const caughtUp = once(subscription, 'caughtUp');
      const events = take(subscription, 3);
      await confirmed;
      await caughtUp;
      await append('s', 'C');
      expect(typesOf(await events)).to.deep.equal(['A', 'B', 'C']);
      await subscription.unsubscribe();
    });

    it('catch up after a position (excluded), or from the end (live only)', async () => {
      await append('s', 'A', 'B', 'C');
      const [, second] = await collect(client.readAll());
      const afterSecond = client.subscribeToAll({ fromPosition: second!.event!.position });
      expect(typesOf(await take(afterSecond, 1))).to.deep.equal(['C']);
      const fromEnd = client.subscribeToAll({ fromPosition: END });
      const live = take(fromEnd, 1);
      await once(fromEnd, 'caughtUp');
      await append('s', 'D');
      expect(typesOf(await live)).to.deep.equal(['D']);
      await Promise.all([afterSecond.unsubscribe(), fromEnd.unsubscribe()]);
    });

    it('filter on event type or stream name, by prefix or regex, with checkpoints every interval × window filtered-out events', async () => {
      await append('order-1', 'OrderPlaced', 'OrderShipped');
      await append('customer-1', 'CustomerJoined');
      await append('order-2', 'OrderPlaced');
      const filtered = async (filter: Parameters<EventStoreDBClient['subscribeToAll']>[0], count: number) => {
        const subscription = client.subscribeToAll(filter);
        const events = await take(subscription, count);
        await subscription.unsubscribe();
        return events.map((resolved) => `${resolved.event?.streamId}:${resolved.event?.type}`);
      };
      expect(await filtered({ filter: eventTypeFilter({ prefixes: ['Customer', 'OrderS'] }) }, 2)).to.deep.equal(['order-1:OrderShipped', 'customer-1:CustomerJoined']);
      expect(await filtered({ filter: eventTypeFilter({ regex: 'Placed$' }) }, 2)).to.deep.equal(['order-1:OrderPlaced', 'order-2:OrderPlaced']);
      expect(await filtered({ filter: streamNameFilter({ prefixes: ['customer-'] }) }, 1)).to.deep.equal(['customer-1:CustomerJoined']);
      expect(await filtered({ filter: streamNameFilter({ regex: '^order-2$' }) }, 1)).to.deep.equal(['order-2:OrderPlaced']);

      const checkpoints: Position[] = [];
      const onlyOrders = client.subscribeToAll({
        filter: streamNameFilter({ prefixes: ['order-'], maxSearchWindow: 1, checkpointInterval: 2, checkpointReached: (_, position) => void checkpoints.push(position) }),
      });
      await once(onlyOrders, 'caughtUp');
      await append('customer-2', 'CustomerJoined'); // with customer-1's: the second filtered-out event
      await append('customer-3', 'CustomerJoined');
      await append('order-3', 'OrderPlaced');
      const orders = await take(onlyOrders, 4); // order-1 (×2), order-2, then order-3: sent after the checkpoint before it
      expect(orders[3]?.event?.streamId).to.equal('order-3');
      const customer2 = (await collect(client.readStream('customer-2')))[0]!.event!.position;
      expect(checkpoints).to.deep.equal([customer2]);
      await onlyOrders.unsubscribe();
    });

    it("breakSubscriptions('end') completes the call: the subscription ends, its async iterator finishes", async () => {
      await append('s', 'A');
      const subscription = client.subscribeToAll();
      const seen: string[] = [];
      const iterating = (async () => {
        for await (const resolved of subscription) seen.push(resolved.event!.type);
      })();
      await once(subscription, 'caughtUp');
      server.breakSubscriptions('end');
      await iterating;
      expect(seen).to.deep.equal(['A']);
    });

    it("breakSubscriptions('error') fails the call with UNAVAILABLE: the subscription emits UnavailableError, and the client can subscribe again", async () => {
      const subscription = client.subscribeToAll();
      const failed = once(subscription, 'error').then(([error]: unknown[]) => error);
      await once(subscription, 'caughtUp');
      server.breakSubscriptions('error');
      expect(await failed).to.be.instanceOf(UnavailableError);

      await append('s', 'A');
      const again = client.subscribeToAll();
      expect(typesOf(await take(again, 1))).to.deep.equal(['A']);
      await again.unsubscribe();
    });
  });
});
