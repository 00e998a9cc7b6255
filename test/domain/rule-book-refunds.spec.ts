import { expect } from 'chai';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { fromSnapshot, createRuleBook, type RuleBook } from '../../domain/rules/rule-book.ts';
import type { RefundDecision } from '../../domain/earning/refund.ts';
import type { Reversal } from '../../domain/tracked-event/tracked-event-events.ts';

const at = '2026-03-01T10:00:00.000Z';
const campaign = (campaignId: string, budget: number | null, refundDays?: number): CampaignEvent => ({
  type: 'CampaignCreated',
  data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget, startsAt: null, endsAt: null, status: 'active', createdAt: at, ...(refundDays === undefined ? {} : { refundDays }) },
});
const rule = (campaignId: string, amount: number, maxPerBeneficiary: number | null = null): CampaignEvent => ({
  type: 'RuleAdded',
  data: { campaignId, ruleId: `${campaignId}-r`, name: 'r', priority: 0, conditions: {}, reward: { type: 'fixed', amount }, beneficiary: 'customerId', limits: { maxPerBeneficiary }, addedAt: at },
});
const idFor = (eventId: string) => (campaignId: string) => `${eventId}/${campaignId}`;

const days = (n: number): string => new Date(Date.parse(at) + n * 86_400_000).toISOString();

/** What the rule engine does for a purchase: decide, then count at once. */
const purchase = (book: RuleBook, eventId: string, customerId = 'C-1', amount = 100, when = at) => {
  const decision = book.decide({ customerId, amount }, when, idFor(eventId));
  book.record(eventId, decision, amount, when);
  return decision;
};
/** And for a refund. */
const refund = (book: RuleBook, eventId: string, refundOf: string, amount: number | null = null, when = at): RefundDecision => {
  const decision = book.decideRefund({ refundOf, amount }, book.hasEarned(refundOf) || refundOf.startsWith('p'), when);
  book.recordRefund(eventId, decision, when);
  return decision;
};
const reversalsOf = (decision: RefundDecision | undefined): readonly Reversal[] => {
  if (decision?.kind !== 'applied') throw new Error(`expected an applied refund, got ${JSON.stringify(decision)}`);
  return decision.reversals;
};
const granted = (book: RuleBook, campaignId: string) => book.snapshot().state.campaigns.find((c) => c.campaignId === campaignId)!.granted;

describe('rule book: refunds', () => {
  it('gives a reversal back to the budget at once, and the next event uses it', () => {
    const book = createRuleBook();
    [campaign('c1', 1000), rule('c1', 500)].forEach(book.apply);
    purchase(book, 'p1');
    purchase(book, 'p2');
    expect(purchase(book, 'p3').reasons).to.deep.equal([{ campaignId: 'c1', reason: 'budget exhausted' }]);
    expect(refund(book, 'r1', 'p1', 40)).to.deep.include({ kind: 'applied' });
    expect(granted(book, 'c1')).to.equal(800);
    // 2.00 left: the next purchase gets what is left of the budget.
    expect(purchase(book, 'p4').matches.map((m) => m.amount)).to.deep.equal([200]);
  });

  it('gives back the place under a beneficiary limit only when an earning is reversed in full', () => {
    const book = createRuleBook();
    [campaign('c1', null), rule('c1', 500, 1)].forEach(book.apply);
    purchase(book, 'p1');
    refund(book, 'r1', 'p1', 50);
    expect(purchase(book, 'p2').matches).to.deep.equal([]);
    refund(book, 'r2', 'p1', 50);
    expect(purchase(book, 'p3').matches.map((m) => m.amount)).to.deep.equal([500]);
  });

  it('reverses a purchase decided in the same breath: recorded, not yet back from the log', () => {
    const book = createRuleBook();
    [campaign('c1', null), rule('c1', 500)].forEach(book.apply);
    purchase(book, 'p1');
    expect(book.hasEarned('p1')).to.equal(true);
    const decision = refund(book, 'r1', 'p1');
    expect(reversalsOf(decision).map((r) => r.amount)).to.deep.equal([500]);
  });

  it('replaces what a refund counted with its decision from the log, and counts a logged refund it never decided', () => {
    const book = createRuleBook();
    [campaign('c1', null), rule('c1', 500)].forEach(book.apply);
    const { matches } = purchase(book, 'p1');
    book.apply({ type: 'RuleMatched', data: { eventId: 'p1', ...matches[0]! } });
    refund(book, 'r1', 'p1', 10);
    expect(granted(book, 'c1')).to.equal(450);
    // The log says another version decided r1 otherwise (20 of 100): its word counts.
    const reversal = { campaignId: 'c1', earningId: 'p1/c1', beneficiaryId: 'C-1', amount: 100, currency: 'EUR', remaining: 400 };
    book.apply({ type: 'RefundApplied', data: { eventId: 'r1', refundOf: 'p1', amount: 20, reversals: [reversal] } });
    expect(granted(book, 'c1')).to.equal(400);
    // And the next refund builds on it: 20 + 30 = 50 of 100 refunded, 250 of 500 reversed in all.
    const next = refund(book, 'r2', 'p1', 30);
    expect(reversalsOf(next)[0]).to.deep.include({ amount: 150, remaining: 250 });
    // A refund the log says was skipped counts nothing.
    book.apply({ type: 'EventSkipped', data: { eventId: 'r2', reasons: [{ campaignId: null, reason: 'x' }] } });
    expect(granted(book, 'c1')).to.equal(400);
  });

  it('keeps the event\u2019s amount for partial refunds when the log says it matched where the book did not (another version decided it)', () => {
    const book = createRuleBook();
    [campaign('c1', null), rule('c1', 500)].forEach(book.apply);
    // Decided in memory before the rule existed here, say: nothing; the log's decision grants.
    book.record('p1', { matches: [], reasons: [{ campaignId: 'c1', reason: 'no rule matched' }] }, 100);
    book.apply({ type: 'RuleMatched', data: { eventId: 'p1', campaignId: 'c1', ruleId: 'c1-r', earningId: 'p1/c1', beneficiaryId: 'C-1', amount: 500, currency: 'EUR' } });
    expect(reversalsOf(refund(book, 'r1', 'p1', 10))[0]).to.deep.include({ amount: 50, remaining: 450 });
  });

  it('reverses only what the refund windows of the granting campaigns still keep open', () => {
    const book = createRuleBook();
    [campaign('week', null, 7), campaign('year', null, 365), rule('week', 500), rule('year', 300)].forEach(book.apply);
    purchase(book, 'p1');
    purchase(book, 'p2');
    // Within both windows on day 7, to the millisecond.
    expect(reversalsOf(refund(book, 'r1', 'p1', null, days(7))).map((r) => r.campaignId)).to.deep.equal(['week', 'year']);
    // On day 8, the week's window has closed: only the year's earning is reversed.
    expect(reversalsOf(refund(book, 'r2', 'p2', null, days(8))).map((r) => r.campaignId)).to.deep.equal(['year']);
    purchase(book, 'p3');
    expect(refund(book, 'r3', 'p3', null, days(366))).to.deep.equal({ kind: 'skipped', reason: 'the refund window of every campaign that granted for event p3 has closed' });
  });

  it('forgets what no refund window keeps open any more, the same way in every run', () => {
    const book = createRuleBook();
    [campaign('week', null, 7), campaign('open', null), rule('week', 500)].forEach(book.apply);
    // Their decisions come back through the log: nothing of them is pending any more.
    for (const [eventId, when] of [['p1', at], ['p2', days(1)]] as const) {
      for (const match of purchase(book, eventId, 'C-1', 100, when).matches) book.apply({ type: 'RuleMatched', data: { eventId, ...match } });
    }
    const earned = () => book.snapshot().state.earned.map((entry) => entry.eventId);
    expect(earned()).to.deep.equal(['p1', 'p2']);
    // A day after p1's window closed (day 7, plus a day for clocks that disagree): p1 is forgotten, p2 (closing on day 8) is kept.
    purchase(book, 'p9', 'C-9', 100, days(8.5));
    expect(earned()).to.deep.equal(['p2', 'p9']);
    expect(refund(book, 'r1', 'p1', null, days(8.5))).to.deep.equal({ kind: 'skipped', reason: 'event p1 earned nothing to reverse' });
    // A campaign created before refunds had windows (no refundDays) keeps its earnings reversible for good.
    const old = createRuleBook();
    [campaign('open', null), rule('open', 500)].forEach(old.apply);
    purchase(old, 'p1');
    purchase(old, 'p2', 'C-2', 100, days(4000));
    expect(reversalsOf(refund(old, 'r1', 'p1', null, days(4000)))).to.have.length(1);
  });

  it('keeps what refunds need across a snapshot', () => {
    const book = createRuleBook();
    [campaign('c1', 1000), rule('c1', 500)].forEach(book.apply);
    purchase(book, 'p1');
    refund(book, 'r1', 'p1', 30);
    const restored = fromSnapshot(JSON.parse(JSON.stringify(book.snapshot())) as never);
    if (!restored.ok) throw new Error(restored.reason);
    expect(restored.book.snapshot()).to.deep.equal(book.snapshot());
    const [a, b] = [book, restored.book].map((b) => refund(b, 'r2', 'p1', 30));
    expect(b).to.deep.equal(a);
    expect(reversalsOf(a)[0]!.amount).to.equal(150);
  });
});
