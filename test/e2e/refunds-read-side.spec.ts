import { expect } from 'chai';
import type { EarningGranted } from '../../domain/earning/earning-events.ts';
import type { Match, Reversal } from '../../domain/tracked-event/tracked-event-events.ts';
import { handMadeDecisions } from '../support/hand-made-decisions.ts';
import { handMadeEarnings } from '../support/hand-made-earnings.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const AT = '2026-03-01T10:00:00.000Z';
const HELD_UNTIL = '2026-03-04T10:00:00.000Z';

/**
 * The query API's answers about refunds, from hand-made domain events (what
 * the rule engine and the approvals reactor would write) appended to the real
 * log: no reactor runs, so these tests hold whatever way refunds are decided.
 */
describe('refunds on the read side, over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let decisions: ReturnType<typeof handMadeDecisions>;
  let earnings: ReturnType<typeof handMadeEarnings>;
  const campaigns = { budgeted: '', open: '', yen: '' };
  const grants = new Map<string, EarningGranted['data']>();

  /** A purchase decided with one earning per given grant, each granted (held or not). */
  const purchase = async (eventId: string, earned: { earningId: string; campaignId: string; amount: number; currency?: string; held?: boolean }[]) => {
    await decisions.register(eventId, { type: 'purchase', customerId: 'C-1', amount: 100 });
    const matches: Match[] = earned.map(({ earningId, campaignId, amount, currency = 'EUR' }) => ({ campaignId, ruleId: `r-${campaignId}`, earningId, beneficiaryId: 'C-1', amount, currency }));
    await decisions.match(eventId, matches);
    for (const [index, match] of matches.entries()) {
      const grant: EarningGranted['data'] = { ...match, eventId, grantedAt: AT, approvesAt: earned[index]!.held ? HELD_UNTIL : AT };
      grants.set(match.earningId, grant);
      await earnings.grant(grant);
    }
  };
  /** A refund decided with RefundApplied, and the EarningReversed of each reversal. */
  const refund = async (eventId: string, refundOf: string, amount: number | null, reversals: Omit<Reversal, 'campaignId' | 'beneficiaryId' | 'currency'>[]) => {
    await decisions.register(eventId, { type: 'refund', refundOf, ...(amount === null ? {} : { amount }) });
    const full = reversals.map((reversal) => {
      const { campaignId, beneficiaryId, currency } = grants.get(reversal.earningId)!;
      return { ...reversal, campaignId, beneficiaryId, currency };
    });
    await decisions.applyRefund({ eventId, refundOf, amount, reversals: full });
    for (const reversal of full) await earnings.reverse(grants.get(reversal.earningId)!, eventId, reversal.amount, reversal.remaining, '2026-03-02T10:00:00.000Z');
  };
  const get = (path: string) => app.queries.get(path);

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url, { roles: ['command', 'query', 'projector'] });
    decisions = handMadeDecisions(app.tally.store);
    earnings = handMadeEarnings(app.tally.store);
    campaigns.budgeted = (await app.commands.post('/campaigns', { name: 'Budgeted', budget: 20 })).body.id;
    campaigns.open = (await app.commands.post('/campaigns', { name: 'Open' })).body.id;
    campaigns.yen = (await app.commands.post('/campaigns', { name: 'Yen', currency: 'JPY' })).body.id;

    await purchase('P-1', [{ earningId: 'e-b1', campaignId: campaigns.budgeted, amount: 1000 }, { earningId: 'e-o1', campaignId: campaigns.open, amount: 500 }]);
    await purchase('P-2', [{ earningId: 'e-y1', campaignId: campaigns.yen, amount: 300, currency: 'JPY' }]);
    await purchase('P-3', [{ earningId: 'e-b2', campaignId: campaigns.budgeted, amount: 200, held: true }]);
    // Half of P-1, then the rest; a share of P-2 too small to reverse anything, then a third; a tenth of P-3, still held.
    await refund('R-1', 'P-1', 50, [{ earningId: 'e-b1', amount: 500, remaining: 500 }, { earningId: 'e-o1', amount: 250, remaining: 250 }]);
    await refund('R-2', 'P-1', null, [{ earningId: 'e-b1', amount: 500, remaining: 0 }, { earningId: 'e-o1', amount: 250, remaining: 0 }]);
    await refund('R-3', 'P-2', 0.01, []);
    await refund('R-4', 'P-2', 33.34, [{ earningId: 'e-y1', amount: 100, remaining: 200 }]);
    await refund('R-5', 'P-3', 10, [{ earningId: 'e-b2', amount: 20, remaining: 180 }]);
    await decisions.register('R-6', { type: 'refund', refundOf: 'P-9' });
    await decisions.skip('R-6', 'event P-9 is not registered before this refund');
    await until('every reversal projected', async () => (await get('/earnings/e-b2')).body?.history?.length === 2);
    await until('every refund decided', async () => (await get('/events/R-6')).body?.status === 'skipped');
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('shows each earning with what was reversed and what remains; reversed in full is status reversed', async () => {
    const list = (await get('/earnings?beneficiaryId=C-1')).body.earnings as { id: string }[];
    const byId = Object.fromEntries(list.map((earning) => [earning.id, earning]));
    expect(Object.keys(byId).sort()).to.deep.equal(['e-b1', 'e-b2', 'e-o1', 'e-y1']);
    expect(byId['e-b1']).to.deep.equal({
      id: 'e-b1', eventId: 'P-1', campaignId: campaigns.budgeted, ruleId: `r-${campaigns.budgeted}`, beneficiaryId: 'C-1', amount: 10, currency: 'EUR',
      status: 'reversed', reversed: 10, remaining: 0, grantedAt: AT, approvesAt: AT, approvedAt: AT, reversedAt: '2026-03-02T10:00:00.000Z',
    });
    expect(byId['e-b2']).to.include({ status: 'pending', amount: 2, reversed: 0.2, remaining: 1.8, approvedAt: null, reversedAt: null });
    expect(byId['e-y1']).to.include({ status: 'approved', currency: 'JPY', amount: 300, reversed: 100, remaining: 200 });
    // The list does not carry histories: GET /earnings/:id does.
    expect(byId['e-b1']).to.not.have.property('history');
  });

  it('filters by status, reversed included, and refuses an unknown status with a problem', async () => {
    const ids = async (query: string) => ((await get(`/earnings?beneficiaryId=C-1&${query}`)).body.earnings as { id: string }[]).map((earning) => earning.id).sort();
    expect(await ids('status=reversed')).to.deep.equal(['e-b1', 'e-o1']);
    expect(await ids('status=pending')).to.deep.equal(['e-b2']);
    expect(await ids('status=approved')).to.deep.equal(['e-y1']);
    expect(await ids(`status=reversed&campaignId=${campaigns.open}`)).to.deep.equal(['e-o1']);
    const bad = await get('/earnings?status=refunded');
    expect(bad.status).to.equal(400);
    expect(bad.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(bad.body.errors[0]).to.deep.equal({ pointer: '/query/status', message: 'must be one of pending, approved, reversed' });
  });

  it('answers one earning with its history in stream order, and 404 for an unknown one', async () => {
    const one = await get('/earnings/e-b1');
    expect(one.status).to.equal(200);
    expect(one.body).to.include({ id: 'e-b1', status: 'reversed', remaining: 0 });
    expect(one.body.history).to.deep.equal([
      { revision: '0', kind: 'granted', amount: 10, at: AT },
      { revision: '1', kind: 'reversed', amount: 5, remaining: 5, reason: 'refund R-1', refundEventId: 'R-1', at: '2026-03-02T10:00:00.000Z' },
      { revision: '2', kind: 'reversed', amount: 5, remaining: 0, reason: 'refund R-2', refundEventId: 'R-2', at: '2026-03-02T10:00:00.000Z' },
    ]);
    const unknown = await get('/earnings/no-such-earning');
    expect(unknown.status).to.equal(404);
    expect(unknown.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(unknown.body).to.include({ status: 404, detail: 'earning no-such-earning not found' });
  });

  it('balances each currency: what remains pending and approved, and what was reversed', async () => {
    expect((await get('/beneficiaries/C-1/balance')).body).to.deep.equal({
      beneficiaryId: 'C-1',
      balances: [
        { currency: 'EUR', pending: 1.8, approved: 0, reversed: 15.2, available: 0 },
        { currency: 'JPY', pending: 0, approved: 200, reversed: 100, available: 200 },
      ],
    });
  });

  it('shows campaign totals: matches, earnings, granted, reversed, and the budget a reversal gives back', async () => {
    const totals = async (id: string) => (await get(`/campaigns/${id}`)).body.totals;
    expect(await totals(campaigns.budgeted)).to.deep.equal({ eventsMatched: 2, earnings: 2, granted: 12, amount: 12, reversed: 10.2, budgetRemaining: 18.2 });
    expect(await totals(campaigns.open)).to.deep.equal({ eventsMatched: 1, earnings: 1, granted: 5, amount: 5, reversed: 5, budgetRemaining: null });
    expect(await totals(campaigns.yen)).to.deep.equal({ eventsMatched: 1, earnings: 1, granted: 300, amount: 300, reversed: 100, budgetRemaining: null });
    const listed = (await get('/campaigns')).body.campaigns as { id: string; totals: unknown }[];
    expect(listed.find((campaign) => campaign.id === campaigns.budgeted)!.totals).to.deep.equal(await totals(campaigns.budgeted));
    const fresh = (await app.commands.post('/campaigns', { name: 'Nothing yet', budget: 7.5 })).body.id;
    expect(await until('the new campaign projected', () => totals(fresh))).to.deep.equal({ eventsMatched: 0, earnings: 0, granted: 0, amount: 0, reversed: 0, budgetRemaining: 7.5 });
  });

  it('shows a refund as processed with what it took back; one that took back nothing, and one skipped', async () => {
    const applied = (await get('/events/R-1')).body;
    expect(applied).to.include({ id: 'R-1', type: 'refund', status: 'processed', refundOf: 'P-1', matchedRuleId: null });
    expect(applied.matchedRuleIds).to.deep.equal([]);
    expect(applied.earnings).to.deep.equal([]);
    expect(applied.reversals).to.deep.equal([
      { campaignId: campaigns.budgeted, earningId: 'e-b1', beneficiaryId: 'C-1', amount: 5, currency: 'EUR', remaining: 5 },
      { campaignId: campaigns.open, earningId: 'e-o1', beneficiaryId: 'C-1', amount: 2.5, currency: 'EUR', remaining: 2.5 },
    ]);
    expect(applied).to.not.have.property('skipReasons');
    expect((await get('/events/R-3')).body).to.deep.include({ status: 'processed', refundOf: 'P-2', reversals: [] });
    const skipped = (await get('/events/R-6')).body;
    expect(skipped).to.deep.include({ status: 'skipped', skipReasons: [{ campaignId: null, reason: 'event P-9 is not registered before this refund' }] });
    expect(skipped).to.not.have.any.keys('refundOf', 'reversals');
    // A purchase keeps its answer: no refund fields, even once refunded.
    const bought = (await get('/events/P-1')).body;
    expect(bought).to.include({ status: 'processed' });
    expect(bought).to.not.have.any.keys('refundOf', 'reversals');
    expect(bought.earnings.map((earning: { id: string }) => earning.id)).to.deep.equal(['e-b1', 'e-o1']);
  });

  it('wakes a long-poll on a refund’s decision', async () => {
    await decisions.register('R-7', { type: 'refund', refundOf: 'P-3', amount: 1 });
    await until('the refund projected, pending', async () => (await get('/events/R-7')).body?.status === 'pending');
    const waited = get('/events/R-7?wait=10');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await decisions.applyRefund({ eventId: 'R-7', refundOf: 'P-3', amount: 1, reversals: [] });
    const answer = await waited;
    expect(answer.body).to.deep.include({ status: 'processed', refundOf: 'P-3', reversals: [] });
  });
});
