import { expect } from 'chai';
import { EVENT_STORE_KINDS, eventStoreEnv, type EventStoreEnv } from '../support/event-store-kinds.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/**
 * The README's refund walk-through (The earning lifecycle), request for
 * request, on every event store: a purchase, a partial refund, an
 * over-refund, a refund of what is refunded in full, the balance and the
 * earning's history; and refunds that wait for, or never find, their purchase.
 */
for (const kind of EVENT_STORE_KINDS) {
  describe(`refunds over HTTP, as the README walks through them, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let app: Awaited<ReturnType<typeof runTally>>;

    before(async () => {
      database = await createTestDatabase();
      eventStore = await eventStoreEnv(kind);
      app = await runTally(database.url, { env: eventStore.env });
    });
    after(async () => {
      await app?.stop();
      await eventStore?.stop();
      await database?.drop();
    });

    const post = async (path: string, body: unknown) => {
      const answer = await app.commands.post(path, body);
      expect(answer.status, JSON.stringify(answer.body)).to.be.oneOf([201, 202]);
      return answer.body;
    };
    const decided = async (id: string) => {
      const answer = await until(`event ${id} decided`, () => app.queries.get(`/events/${id}?wait=5`), { ok: (reply) => reply.status === 200 && reply.body.status !== 'pending' });
      return answer.body;
    };
    const balance = async (beneficiaryId: string) => (await app.queries.get(`/beneficiaries/${beneficiaryId}/balance`)).body.balances;

    it('reverses a third for a partial refund, the rest for an over-refund, nothing more after; balance, totals and history follow', async () => {
      const tenth = await post('/campaigns', { name: 'Ten percent' });
      await post(`/campaigns/${tenth.id}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'percentage', rate: 0.1, of: 'amount' } });

      await post('/events', { id: 'order-1', type: 'purchase', customerId: 'C-3', amount: 150 });
      const order = await decided('order-1');
      expect(order).to.deep.include({ status: 'processed' });
      expect(order.earnings[0]).to.include({ amount: 15, currency: 'EUR' });

      await post('/events', { id: 'refund-1', type: 'refund', refundOf: 'order-1', amount: 50 });
      const partial = await decided('refund-1');
      expect(partial).to.deep.include({ status: 'processed', refundOf: 'order-1' });
      expect(partial.reversals).to.have.length(1);
      expect(partial.reversals[0]).to.include({ amount: 5, remaining: 10, currency: 'EUR' });
      expect(await until('the reversal counted', () => balance('C-3'), { ok: (shown) => shown[0]?.reversed === 5 })).to.deep.equal([
        { currency: 'EUR', pending: 0, approved: 10, reversed: 5, available: 10 },
      ]);

      await post('/events', { id: 'refund-2', type: 'refund', refundOf: 'order-1', amount: 120 });
      expect((await decided('refund-2')).reversals[0]).to.include({ amount: 10, remaining: 0 });
      await post('/events', { id: 'refund-3', type: 'refund', refundOf: 'order-1' });
      expect(await decided('refund-3')).to.deep.include({ status: 'skipped', skipReasons: [{ campaignId: null, reason: 'event order-1 is refunded in full already' }] });

      expect(await until('both reversals counted', () => balance('C-3'), { ok: (shown) => shown[0]?.reversed === 15 })).to.deep.equal([
        { currency: 'EUR', pending: 0, approved: 0, reversed: 15, available: 0 },
      ]);
      expect((await app.queries.get(`/campaigns/${tenth.id}`)).body.totals).to.deep.include({ eventsMatched: 1, earnings: 1, granted: 15, reversed: 15, budgetRemaining: null });
      const earning = (await app.queries.get(`/earnings/${order.earnings[0].id}`)).body;
      expect(earning).to.deep.include({ status: 'reversed', amount: 15, reversed: 15, remaining: 0 });
      expect(earning.history.map((entry: { kind: string; refundEventId?: string }) => [entry.kind, entry.refundEventId ?? null])).to.deep.equal([
        ['granted', null], ['reversed', 'refund-1'], ['reversed', 'refund-2'],
      ]);
      const stream = (await app.queries.get(`/streams/earning-${order.earnings[0].id}`)).body;
      expect(JSON.stringify(stream)).to.contain('EarningReversed');
    });

    it('lets a refund sent with its purchase wait for the purchase’s decision, and skips one that names an event not registered before it', async () => {
      const fixed = await post('/campaigns', { name: 'Fixed' });
      await post(`/campaigns/${fixed.id}/rules`, { conditions: { merchantId: 'M-9' }, reward: { type: 'fixed', amount: 2 } });
      // Sent before its purchase: the purchase is unknown where the refund stands in the log, even though it comes right after.
      const batch = await post('/events/batch', {
        events: [
          { id: 'early-refund', type: 'refund', refundOf: 'order-9' },
          { id: 'order-9', type: 'purchase', merchantId: 'M-9', customerId: 'C-9', amount: 20 },
          { id: 'same-breath', type: 'refund', refundOf: 'order-9', amount: 5 },
        ],
      });
      expect(batch.results.map((result: { status: number }) => result.status)).to.deep.equal([202, 202, 202]);
      expect(await decided('early-refund')).to.deep.include({ status: 'skipped', skipReasons: [{ campaignId: null, reason: 'event order-9 is not registered before this refund' }] });
      expect((await decided('same-breath')).reversals[0]).to.include({ amount: 0.5, remaining: 1.5 });
      await post('/events', { id: 'no-earning', type: 'refund', refundOf: 'early-refund' });
      expect((await decided('no-earning')).skipReasons).to.deep.equal([{ campaignId: null, reason: 'event early-refund earned nothing to reverse' }]);
    });

    it('refuses a refund it could not act on, and registers nothing', async () => {
      for (const [body, pointer] of [
        [{ id: 'bad-1', type: 'refund' }, '/refundOf'],
        [{ id: 'bad-2', type: 'refund', refundOf: 'order-1', amount: 0 }, '/amount'],
        [{ id: 'bad-3', type: 'refund', refundOf: 'order-1', amount: '5' }, '/amount'],
        [{ id: 'bad-4', type: 'refund', refundOf: '../etc' }, '/refundOf'],
      ] as const) {
        const answer = await app.commands.post('/events', body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.headers.get('content-type')).to.match(/application\/problem\+json/);
        expect(answer.body.errors[0].pointer).to.equal(pointer);
        expect((await app.queries.get(`/events/${body.id}`)).status).to.equal(404);
      }
    });
  });
}
