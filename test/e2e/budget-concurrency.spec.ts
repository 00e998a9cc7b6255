import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

interface Earning { id: string; eventId: string; amount: number; status: string; reversed: number; remaining: number }

/**
 * Issue 11: 200 registrations at once against a budget that covers 50 grant
 * exactly the budget; refunds of 20 of them give exactly that back, and the
 * registrations after them use it, and no more.
 */
describe('a budget under concurrent registrations and refunds, over HTTP', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const decided = async (ids: readonly string[]) => {
    const answers = await Promise.all(ids.map((id) => until(`event ${id} decided`, () => app.queries.get(`/events/${id}?wait=5`), { ok: (answer) => answer.status === 200 && answer.body.status !== 'pending' })));
    return answers.map((answer) => answer.body as { id: string; status: string; earnings: unknown[]; skipReasons?: { reason: string }[]; reversals?: { amount: number }[] });
  };
  const earnings = async (campaignId: string): Promise<Earning[]> => {
    const answer = await app.queries.get(`/earnings?campaignId=${campaignId}&limit=1000`);
    expect(answer.status).to.equal(200);
    return answer.body.earnings;
  };
  const totals = async (campaignId: string) => (await app.queries.get(`/campaigns/${campaignId}`)).body.totals as { earnings: number };
  const sum = (amounts: readonly number[]) => Math.round(amounts.reduce((total, amount) => total + amount, 0) * 100) / 100;

  it('grants exactly the budget, gives back exactly what refunds reverse, and lets the next registrations use it', async () => {
    const created = await app.commands.post('/campaigns', { name: 'Fifty', budget: 50 });
    const campaignId = created.body.id as string;
    await app.commands.post(`/campaigns/${campaignId}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'fixed', amount: 1 } });

    const first = Array.from({ length: 200 }, (_, n) => `buy-${n}`);
    const registered = await Promise.all(first.map((id, n) => app.commands.post('/events', { id, type: 'purchase', customerId: `C-${n}`, amount: 10 })));
    expect(registered.every((answer) => answer.status === 202)).to.equal(true);
    const firstDecisions = await decided(first);
    const winners = firstDecisions.filter((decision) => decision.status === 'processed').map((decision) => decision.id);
    expect(winners).to.have.length(50);
    expect(firstDecisions.filter((decision) => decision.status === 'skipped').every((decision) => decision.skipReasons?.[0]?.reason === 'budget exhausted')).to.equal(true);
    const granted = await until('50 earnings projected', () => earnings(campaignId), { ok: (rows) => rows.length === 50 });
    expect(sum(granted.map((row) => row.amount))).to.equal(50);

    // Refunds of 20 of them, in full, at once.
    const refunded = winners.slice(0, 20);
    const refunds = await Promise.all(refunded.map((refundOf) => app.commands.post('/events', { id: `refund-${refundOf}`, type: 'refund', refundOf })));
    expect(refunds.every((answer) => answer.status === 202)).to.equal(true);
    const refundDecisions = await decided(refunded.map((id) => `refund-${id}`));
    expect(refundDecisions.map((decision) => decision.status)).to.deep.equal(Array(20).fill('processed'));
    const afterRefunds = await until('20 earnings reversed', () => earnings(campaignId), { ok: (rows) => rows.filter((row) => row.status === 'reversed').length === 20 });
    expect(afterRefunds.filter((row) => row.status === 'reversed').map((row) => row.eventId).sort()).to.deep.equal([...refunded].sort());
    expect(sum(afterRefunds.map((row) => row.remaining))).to.equal(30);
    expect(await totals(campaignId)).to.deep.include({ eventsMatched: 50, earnings: 50, granted: 50, reversed: 20, budgetRemaining: 20 });

    // The 20 given back, and no more: 60 more registrations, 20 granted.
    const next = Array.from({ length: 60 }, (_, n) => `again-${n}`);
    await Promise.all(next.map((id, n) => app.commands.post('/events', { id, type: 'purchase', customerId: `D-${n}`, amount: 10 })));
    const nextDecisions = await decided(next);
    expect(nextDecisions.filter((decision) => decision.status === 'processed')).to.have.length(20);
    const final = await until('70 earnings projected', () => earnings(campaignId), { ok: (rows) => rows.length === 70 });
    expect(sum(final.map((row) => row.remaining))).to.equal(50);
    expect(sum(final.map((row) => row.reversed))).to.equal(20);
    expect(await until('the totals counted', () => totals(campaignId), { ok: (shown) => shown.earnings === 70 })).to.deep.include({ eventsMatched: 70, granted: 70, reversed: 20, budgetRemaining: 0 });
  });
});
