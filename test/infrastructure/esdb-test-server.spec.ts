import { once } from 'node:events';
import { expect } from 'chai';
import {
  ANY,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  binaryEvent,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
} from '@eventstore/db-client';
import { startEsdbTestServer, type EsdbTestServer, type EsdbTestServerOptions } from '../support/esdb-test-server/esdb-test-server.ts';
import { grpc, serverFeaturesGrpcPb, sharedPb, type ServerFeaturesPb } from '../support/esdb-test-server/stubs.ts';

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

  it('appends (through BatchAppend, as to 24.10) and reads the event back as written', async () => {
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

/** How the double takes appends: over BatchAppend (as 24.10) or the classic Append, within a size limit. */
describe('EventStoreDB test server (a test double), appends through the real EventStoreDBClient', () => {
  let server: EsdbTestServer;
  let client: EventStoreDBClient;
  const start = async (options: EsdbTestServerOptions) => {
    server = await startEsdbTestServer(options);
    client = EventStoreDBClient.connectionString(server.connectionString);
  };
  afterEach(async () => {
    await client?.dispose();
    await server?.stop();
  });

  const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
    const collected: T[] = [];
    for await (const item of items) collected.push(item);
    return collected;
  };
  /** The stream's events, or none when it does not exist. */
  const streamOf = (name: string) => collect(client.readStream(name)).catch((error: unknown) => (error instanceof StreamNotFoundError ? [] : Promise.reject(error)));
  const allCount = async () => (await collect(client.readAll())).length;
  /** What ServerFeatures answers, asked directly over gRPC. */
  const supportedMethods = () =>
    new Promise<ServerFeaturesPb.SupportedMethods>((resolve, reject) => {
      const raw = new serverFeaturesGrpcPb.ServerFeaturesClient(server.connectionString.replace(/^esdb:\/\/([^?]+).*$/, '$1'), grpc.credentials.createInsecure());
      raw.getSupportedMethods(new sharedPb.Empty(), (error, methods) => {
        raw.close();
        if (error) reject(error);
        else resolve(methods);
      });
    });

  it('batch mode (the default): ServerFeatures answers as EventStoreDB 24.10 does, and the client appends through one BatchAppend call', async () => {
    await start({});
    const methods = await supportedMethods();
    expect(methods.getEventStoreServerVersion()).to.equal('24.10.0');
    const listed = methods.getMethodsList().map((method) => `/${method.getServiceName()}/${method.getMethodName()} [${method.getFeaturesList().join(' ')}]`);
    expect(listed).to.include.members([
      '/event_store.client.streams.streams/read [position events]',
      '/event_store.client.streams.streams/append []',
      '/event_store.client.streams.streams/delete []',
      '/event_store.client.streams.streams/tombstone []',
      '/event_store.client.streams.streams/batchappend [deadline_duration]',
    ]);

    for (let n = 0; n < 3; n++) await client.appendToStream(`s-${n}`, jsonEvent({ type: 'A', data: { n } }));
    expect(server.calls('ServerFeatures.GetSupportedMethods')).to.equal(2); // ours, then the client's
    expect(server.calls('Streams.BatchAppend')).to.equal(1);
    expect(server.requests('Streams.BatchAppend')).to.equal(3);
    expect(server.calls('Streams.Append')).to.equal(0);
  });

  it('classic mode: ServerFeatures is not there (UNIMPLEMENTED), and the client appends with one Append call each', async () => {
    await start({ appendMode: 'classic' });
    expect(await supportedMethods().catch((error: { code?: number }) => error.code)).to.equal(grpc.status.UNIMPLEMENTED);
    for (let n = 0; n < 3; n++) await client.appendToStream(`s-${n}`, jsonEvent({ type: 'A', data: { n } }));
    expect(server.calls('Streams.Append')).to.equal(3);
    expect(server.calls('Streams.BatchAppend')).to.equal(0);
  });

  for (const appendMode of ['batch', 'classic'] as const) {
    describe(`${appendMode} mode`, () => {
      beforeEach(() => start({ appendMode, maxAppendSizeBytes: 1000 }));

      it('appends with each kind of expected revision, or refuses with the expected and actual values the client reports', async () => {
        const attempt = (stream: string, expectedRevision: AppendExpectedRevision) =>
          client.appendToStream(stream, jsonEvent({ type: 'E', data: {} }), { expectedRevision }).then(
            (result) => ({ next: result.nextExpectedRevision, success: result.success }),
            (error: unknown) => {
              expect(error).to.be.instanceOf(WrongExpectedVersionError);
              const { expectedVersion, actualVersion, streamName } = error as WrongExpectedVersionError;
              return { expectedVersion, actualVersion, streamName };
            },
          );
        expect(await attempt('s', NO_STREAM)).to.deep.equal({ next: 0n, success: true });
        expect(await attempt('s', NO_STREAM)).to.deep.equal({ expectedVersion: 'no_stream', actualVersion: 0n, streamName: 's' });
        expect(await attempt('s', STREAM_EXISTS)).to.deep.equal({ next: 1n, success: true });
        expect(await attempt('missing', STREAM_EXISTS)).to.deep.equal({ expectedVersion: 'stream_exists', actualVersion: 'no_stream', streamName: 'missing' });
        expect(await attempt('s', 1n)).to.deep.equal({ next: 2n, success: true });
        expect(await attempt('s', 1n)).to.deep.equal({ expectedVersion: 1n, actualVersion: 2n, streamName: 's' });
        expect(await attempt('missing', 0n)).to.deep.equal({ expectedVersion: 0n, actualVersion: 'no_stream', streamName: 'missing' });
        expect(await attempt('s', ANY)).to.deep.equal({ next: 3n, success: true });
        expect(await attempt('any-new', ANY)).to.deep.equal({ next: 0n, success: true });
        expect((await streamOf('s')).map((resolved) => resolved.event?.revision)).to.deep.equal([0n, 1n, 2n, 3n]);
        expect(await streamOf('missing')).to.deep.equal([]);
      });

      it('takes an append up to maxAppendSize (data, custom metadata, two bytes per character of the type), and refuses one byte more, writing nothing', async () => {
        // 'T' counts 2 bytes: 998 + 2 = 1000.
        const fits = await client.appendToStream('fits', binaryEvent({ type: 'T', data: new Uint8Array(998) }));
        expect(fits.nextExpectedRevision).to.equal(0n);
        const together = [binaryEvent({ type: 'T', data: new Uint8Array(400), metadata: new Uint8Array(98) }), binaryEvent({ type: 'T', data: new Uint8Array(498) })];
        expect((await client.appendToStream('together', together)).nextExpectedRevision).to.equal(1n);

        const before = await allCount();
        const refusals = [
          client.appendToStream('big', binaryEvent({ type: 'T', data: new Uint8Array(999) })),
          client.appendToStream('big', binaryEvent({ type: 'TT', data: new Uint8Array(997) })),
          client.appendToStream('big', binaryEvent({ type: 'T', data: new Uint8Array(900), metadata: new Uint8Array(99) })),
          client.appendToStream('big', [binaryEvent({ type: 'T', data: new Uint8Array(400) }), binaryEvent({ type: 'T', data: new Uint8Array(597) })]),
        ];
        for (const refused of refusals) {
          const error = await refused.then(() => expect.fail('the append should have been refused'), (caught: unknown) => caught);
          expect(error).to.be.instanceOf(MaxAppendSizeExceededError);
          expect((error as MaxAppendSizeExceededError).maxAppendSize).to.equal(1000);
        }
        expect(await streamOf('big')).to.deep.equal([]);
        expect(await allCount()).to.equal(before);
        // The refusal breaks nothing: the next append goes through.
        expect((await client.appendToStream('big', jsonEvent({ type: 'Small', data: {} }))).nextExpectedRevision).to.equal(0n);
      });
    });
  }

  describe('batch mode, what only BatchAppend has', () => {
    beforeEach(() => start({ appendMode: 'batch', maxAppendSizeBytes: 10_000 }));
    const events = (count: number, size: number) => Array.from({ length: count }, (_, n) => binaryEvent({ type: 'Part', data: new Uint8Array(size).fill(n) }));

    it('takes an append the client splits over several requests, all or nothing, and answers it once', async () => {
      const result = await client.appendToStream('split', events(5, 1000), { batchAppendSize: 2500 });
      expect(server.requests('Streams.BatchAppend')).to.be.greaterThan(1);
      expect(result.nextExpectedRevision).to.equal(4n);
      const read = await streamOf('split');
      expect(read.map((resolved) => resolved.event?.revision)).to.deep.equal([0n, 1n, 2n, 3n, 4n]);
      expect(read.map((resolved) => (resolved.event?.data as Uint8Array)[0])).to.deep.equal([0, 1, 2, 3, 4]);
      expect(result.position).to.deep.equal(read[4]!.event!.position);

      // A split append that turns out too large is refused once its events pass the limit: nothing written,
      // its later requests ignored, and the call goes on serving other appends.
      const requestsBefore = server.requests('Streams.BatchAppend');
      const refused = await client.appendToStream('split-big', events(12, 1000), { batchAppendSize: 2500 }).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(MaxAppendSizeExceededError).and.include({ maxAppendSize: 10_000 });
      expect(server.requests('Streams.BatchAppend') - requestsBefore).to.be.greaterThan(1);
      expect(await streamOf('split-big')).to.deep.equal([]);
      expect((await client.appendToStream('split-big', events(2, 1000), { batchAppendSize: 2500 })).nextExpectedRevision).to.equal(1n);
      expect(server.calls('Streams.BatchAppend')).to.equal(1);
    });

    it('refuses an append whose deadline has passed when it arrives (Timeout: the client raises DeadlineExceededError), writing nothing', async () => {
      const late = await client.appendToStream('late', jsonEvent({ type: 'A', data: {} }), { deadline: 0 }).catch((error: unknown) => error);
      expect(late).to.be.instanceOf(DeadlineExceededError);
      expect(await streamOf('late')).to.deep.equal([]);
    });
  });
});
