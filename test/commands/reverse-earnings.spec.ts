import { expect } from 'chai';
import { reverseEarnings, type ReversalOrder } from '../../commands/reactors/reverse-earnings.ts';
import { earningStream, type EarningEvent, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';

describe('reversing earnings in a batch', function () {
  this.timeout(30_000);
  let harness: Awaited<ReturnType<typeof createPostgresStoreForTest>>;
  beforeEach(async () => {
    harness = await createPostgresStoreForTest();
  });
  afterEach(async () => harness.stop());

  const now = () => '2026-03-02T10:00:00.000Z';
  const grant = async (earningId: string, amount: number) => {
    const granted: EarningGranted = {
      type: 'EarningGranted',
      data: { earningId, eventId: `t-${earningId}`, campaignId: 'c1', ruleId: 'r1', beneficiaryId: 'b1', amount, currency: 'EUR', grantedAt: now(), approvesAt: '2026-03-09T10:00:00.000Z' },
    };
    await harness.store.appendToStream(earningStream(earningId), [toEventToAppend(granted)], { expectedRevision: 'no_stream' });
  };
  const order = (earningId: string, refundEventId: string, amount: number): ReversalOrder => ({
    cause: { id: '00000000-0000-4000-8000-000000000001', metadata: {} }, refundEventId, earningId, amount, reason: `refund ${refundEventId}`,
  });
  const stream = async (earningId: string): Promise<EarningEvent[]> => {
    const events: EarningEvent[] = [];
    for await (const recorded of harness.store.readStream(earningStream(earningId))) events.push(asDomainEvent<EarningEvent>(recorded));
    return events;
  };

  it('appends two refunds of one earning in order, each once, and caps them at what is left', async () => {
    await grant('e1', 500);
    await grant('e2', 300);
    const orders = [order('e1', 'r1', 200), order('e2', 'r2', 300), order('e1', 'r3', 400)];
    await reverseEarnings(harness.store, orders, now, silentLogger, 'test');
    await reverseEarnings(harness.store, orders, now, silentLogger, 'test');
    const e1 = (await stream('e1')).filter((event) => event.type === 'EarningReversed').map((event) => event.data);
    expect(e1.map(({ refundEventId, amount, remaining }) => [refundEventId, amount, remaining])).to.deep.equal([['r1', 200, 300], ['r3', 300, 0]]);
    expect((await stream('e2')).map((event) => event.type)).to.deep.equal(['EarningGranted', 'EarningReversed']);
  });

  it('reads and decides again an earning that another writer moved meanwhile (an approval)', async () => {
    await grant('e1', 500);
    let raced = false;
    const racing: EventStore = {
      ...harness.store,
      appendToStreams: async (appends) => {
        if (!raced) {
          raced = true;
          await harness.store.appendToStream(earningStream('e1'), [toEventToAppend({ type: 'EarningApproved', data: { earningId: 'e1', approvedAt: now() } })], { expectedRevision: 0n });
        }
        return harness.store.appendToStreams(appends);
      },
    };
    await reverseEarnings(racing, [order('e1', 'r1', 100)], now, silentLogger, 'test');
    expect((await stream('e1')).map((event) => event.type)).to.deep.equal(['EarningGranted', 'EarningApproved', 'EarningReversed']);
  });

  it('leaves an earning not granted yet as it is, and names the refunds that reversed it, so they can be tried again', async () => {
    await grant('e1', 500);
    const { ungranted } = await reverseEarnings(harness.store, [order('e1', 'r1', 100), order('later', 'r2', 100)], now, silentLogger, 'test');
    expect([...ungranted]).to.deep.equal(['r2']);
    expect(await stream('later')).to.deep.equal([]);
    expect((await stream('e1')).map((event) => event.type)).to.deep.equal(['EarningGranted', 'EarningReversed']);
  });
});
