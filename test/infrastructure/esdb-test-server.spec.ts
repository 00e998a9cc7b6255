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
  const isSystem = (resolved: { event?: { type: string } }) => resolved.event?.type.startsWith('$') ?? false;
  /** The types of the clients' events, the server's own ($-typed) left out. */
  const typesOf = (events: { event?: { type: string } }[]) => events.filter((resolved) => !isSystem(resolved)).map((resolved) => resolved.event?.type);
  /** The first `count` events of clients a subscription delivers. */
  const take = (subscription: AllStreamSubscription, count: number) =>
    new Promise<AllStreamResolvedEvent[]>((resolve, reject) => {
      const taken: AllStreamResolvedEvent[] = [];
      subscription.on('error', reject);
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        if (!isSystem(resolved) && taken.push(resolved) === count) resolve(taken);
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
    const everything = await collect(client.readAll());
    // As on a fresh 24.10 server, $all starts with the server's settings and default users.
    expect(everything.slice(0, 5).map((resolved) => `${resolved.event?.streamId}:${resolved.event?.type}`)).to.deep.equal([
      '$settings:$settings', '$user-admin:$UserCreated', '$users:$User', '$user-ops:$UserCreated', '$users:$User',
    ]);
    const all = everything.filter((resolved) => !isSystem(resolved));
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

  it('writes a system event ($statsCollected) after every fifth append of clients, between theirs', async () => {
    for (let n = 1; n <= 6; n++) await append(`s-${n}`, `E${n}`);
    const after = (await collect(client.readAll())).slice(5).map((resolved) => resolved.event?.type);
    expect(after).to.deep.equal(['E1', 'E2', 'E3', 'E4', 'E5', '$statsCollected', 'E6']);
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
      const [, second] = (await collect(client.readAll())).filter((resolved) => !isSystem(resolved));
      const afterSecond = client.subscribeToAll({ fromPosition: second!.event!.position });
      expect(typesOf(await take(afterSecond, 1))).to.deep.equal(['C']);
      const fromEnd = client.subscribeToAll({ fromPosition: END });
      const live = take(fromEnd, 1);
      await once(fromEnd, 'caughtUp');
      await append('s', 'D');
      expect(typesOf(await live)).to.deep.equal(['D']);
      await Promise.all([afterSecond.unsubscribe(), fromEnd.unsubscribe()]);
    });

    it('filter on event type or stream name, by prefix or regex', async () => {
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
    });

    it('send filter checkpoints as 24.10 does: per page of the search window in catch-up, at its end before caught-up, and live every interval of events considered', async () => {
      // $all: 5 system events, then O1, C1 C2 C3, O2, C4 C5 (four appends). Pages of 4: [S1..S4] [S5 O1 C1 C2] [C3 O2 C4 C5].
      await append('order-1', 'O1');
      await append('customer-1', 'C1', 'C2', 'C3');
      await append('order-2', 'O2');
      await append('customer-2', 'C4', 'C5');
      const received: string[] = [];
      const subscription = client.subscribeToAll({
        filter: streamNameFilter({ prefixes: ['order-'], maxSearchWindow: 4, checkpointInterval: 1, checkpointReached: (_, position) => void received.push(`checkpoint@${position.commit}`) }),
      });
      subscription.on('data', (resolved: AllStreamResolvedEvent) => received.push(resolved.event!.type));
      subscription.on('caughtUp', () => received.push('caughtUp'));
      await once(subscription, 'caughtUp');
      // Live: C6 (the fifth append, followed by $statsCollected), O3, C7: the fourth event considered is C7.
      await append('customer-3', 'C6');
      await append('order-3', 'O3');
      await append('customer-3', 'C7');
      await append('customer-3', 'C8');
      const at = new Map((await collect(client.readAll())).map((resolved) => [resolved.event!.type, resolved.event!.position.commit]));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await subscription.unsubscribe();
      expect(received).to.deep.equal([
        `checkpoint@${at.get('$settings')}`, // page 1 matched nothing: its first event, one filtered out
        'O1', `checkpoint@${at.get('O1')}`, // page 2: the event sent last
        'O2', `checkpoint@${at.get('O2')}`, // page 3 reaches the end: one checkpoint, then caught up
        'caughtUp',
        'O3', `checkpoint@${at.get('C7')}`, // live: C6, $statsCollected, O3, C7
      ]);
    });

    it("breakSubscriptions('end') completes the call: the subscription ends, its async iterator finishes", async () => {
      await append('s', 'A');
      const subscription = client.subscribeToAll();
      const seen: string[] = [];
      const iterating = (async () => {
        for await (const resolved of subscription) if (!isSystem(resolved)) seen.push(resolved.event!.type);
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
