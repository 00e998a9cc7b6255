import { expect } from 'chai';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { createRuleBook } from '../../domain/rules/rule-book.ts';
import type { Reward } from '../../domain/rules/rule.ts';

const at = '2026-03-01T10:00:00.000Z';
const campaign = (campaignId: string, status: 'active' | 'scheduled' = 'active'): CampaignEvent => ({
  type: 'CampaignCreated',
  data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status, createdAt: at },
});
const rule = (
  campaignId: string, ruleId: string, priority: number, conditions: Record<string, unknown>, amount = 500, beneficiary = 'customerId',
  extra: { reward?: Reward; maxPerBeneficiary?: number } = {},
): CampaignEvent => ({
  type: 'RuleAdded',
  data: {
    campaignId, ruleId, name: ruleId, priority, conditions: conditions as never, reward: extra.reward ?? { type: 'fixed', amount }, beneficiary,
    limits: { maxPerBeneficiary: extra.maxPerBeneficiary ?? null }, addedAt: at,
  },
});
const withBudget = (campaignId: string, budget: number): CampaignEvent => ({
  type: 'CampaignCreated',
  data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget, startsAt: null, endsAt: null, status: 'active', createdAt: at },
});
/** Decides and records, as the rule engine does for each tracked event in turn. */
let eventNumber = 0;
const decideAndRecord = (book: ReturnType<typeof createRuleBook>, document: Record<string, unknown>) => {
  const decision = book.decide(document as never, at, earningIdFor);
  book.record(`e${eventNumber++}`, decision);
  return decision;
};
const earningIdFor = (campaignId: string) => `earning-for-${campaignId}`;

describe('rule book', () => {
  it('tries rules by descending priority and takes the first match per campaign', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'low', 1, { merchantId: 'M1' }, 100), rule('c1', 'high', 9, { merchantId: 'M1' }, 900)].forEach(book.apply);
    const { matches } = book.decide({ merchantId: 'M1', customerId: 'C-1' }, at, earningIdFor);
    expect(matches).to.deep.equal([{ campaignId: 'c1', ruleId: 'high', earningId: 'earning-for-c1', beneficiaryId: 'C-1', amount: 900, currency: 'EUR' }]);
  });

  it('lets the older rule win a priority tie', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'first', 5, {}), rule('c1', 'second', 5, {})].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).matches[0]?.ruleId).to.equal('first');
  });

  it('stacks campaigns: one match in each', () => {
    const book = createRuleBook();
    [campaign('c1'), campaign('c2'), rule('c1', 'a', 0, { merchantId: 'M1' }), rule('c2', 'b', 0, { 'data.channel': 'web' })].forEach(book.apply);
    const { matches } = book.decide({ merchantId: 'M1', customerId: 'C-1', data: { channel: 'web' } }, at, earningIdFor);
    expect(matches.map((m) => m.ruleId)).to.deep.equal(['a', 'b']);
  });

  it('gives a reason per campaign when nothing matches', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, { merchantId: 'M1' })].forEach(book.apply);
    expect(book.decide({ merchantId: 'M2', customerId: 'C-1' }, at, earningIdFor)).to.deep.equal({
      matches: [],
      reasons: [{ campaignId: 'c1', reason: 'no rule matched' }],
    });
  });

  it('skips a match whose document names no beneficiary', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, {}, 500, 'member.id')].forEach(book.apply);
    const decision = book.decide({ customerId: 'C-1' }, at, earningIdFor);
    expect(decision.matches).to.deep.equal([]);
    expect(decision.reasons[0]?.reason).to.match(/no beneficiary at "member.id"/);
  });

  it('ignores campaigns that are not active and says when none is', () => {
    const book = createRuleBook();
    [campaign('c1', 'scheduled'), rule('c1', 'a', 0, {})].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor)).to.deep.equal({ matches: [], reasons: [{ campaignId: null, reason: 'no active campaign' }] });
  });

  it('only knows the rules added before the moment it decides', () => {
    const book = createRuleBook();
    book.apply(campaign('c1'));
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).matches).to.have.length(0);
    book.apply(rule('c1', 'a', 0, {}));
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).matches).to.have.length(1);
  });

  it('grants a percentage of a document field, rounded half up to the cent, within its cap', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'pct', 0, {}, 0, 'customerId', { reward: { type: 'percentage', rate: 0.05, of: 'amount', cap: 2000 } })].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1', amount: 150 }, at, earningIdFor).matches[0]?.amount).to.equal(750);
    expect(book.decide({ customerId: 'C-1', amount: 10.1 }, at, earningIdFor).matches[0]?.amount).to.equal(51); // 0.505 → 0.51
    expect(book.decide({ customerId: 'C-1', amount: 1000 }, at, earningIdFor).matches[0]?.amount).to.equal(2000);
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).reasons[0]?.reason).to.match(/no number at "amount"/);
  });

  it('grants what is left of the budget, then skips with "budget exhausted"', () => {
    const book = createRuleBook();
    [withBudget('c1', 1200), rule('c1', 'a', 0, {}, 500)].forEach(book.apply);
    expect(decideAndRecord(book, { customerId: 'C-1' }).matches[0]?.amount).to.equal(500);
    expect(decideAndRecord(book, { customerId: 'C-2' }).matches[0]?.amount).to.equal(500);
    expect(decideAndRecord(book, { customerId: 'C-3' }).matches[0]?.amount).to.equal(200);
    expect(decideAndRecord(book, { customerId: 'C-4' })).to.deep.equal({ matches: [], reasons: [{ campaignId: 'c1', reason: 'budget exhausted' }] });
  });

  it('stops granting a beneficiary at the limit and falls through to the next rule', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'welcome', 9, {}, 1000, 'customerId', { maxPerBeneficiary: 1 }), rule('c1', 'regular', 1, { amount: { $gte: 100 } }, 100)].forEach(book.apply);
    expect(decideAndRecord(book, { customerId: 'C-1', amount: 50 }).matches[0]?.ruleId).to.equal('welcome');
    expect(decideAndRecord(book, { customerId: 'C-1', amount: 150 }).matches[0]?.ruleId).to.equal('regular');
    const third = decideAndRecord(book, { customerId: 'C-1', amount: 50 });
    expect(third.matches).to.deep.equal([]);
    expect(third.reasons[0]?.reason).to.match(/C-1 reached its limit of 1/);
    expect(decideAndRecord(book, { customerId: 'C-2', amount: 50 }).matches[0]?.ruleId).to.equal('welcome');
  });

  it('forgets a removed rule and ignores paused and ended campaigns', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, {}), campaign('c2'), rule('c2', 'b', 0, {})].forEach(book.apply);
    book.apply({ type: 'RuleRemoved', data: { campaignId: 'c1', ruleId: 'a', removedAt: at } });
    book.apply({ type: 'CampaignPaused', data: { campaignId: 'c2', at, by: 'api' } });
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor)).to.deep.equal({ matches: [], reasons: [{ campaignId: 'c1', reason: 'no rule matched' }] });
    book.apply({ type: 'CampaignActivated', data: { campaignId: 'c2', at, by: 'api' } });
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).matches.map((m) => m.ruleId)).to.deep.equal(['b']);
  });

  it('explains which condition fails first', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, { merchantId: 'M1', amount: { $gte: 100 } }), rule('c1', 'b', 0, { merchantId: 'M2' })].forEach(book.apply);
    expect(book.explain({ merchantId: 'M1', amount: 50 }, at)).to.deep.equal([
      { campaignId: 'c1', ruleId: 'a', matched: false, failedPath: '/conditions/amount' },
      { campaignId: 'c1', ruleId: 'b', matched: false, failedPath: '/conditions/merchantId' },
    ]);
  });

  it('counts budgets and limits as the log has them once the decision comes back', () => {
    const book = createRuleBook();
    [withBudget('c1', 1000), rule('c1', 'a', 0, {}, 400)].forEach(book.apply);
    book.record('e1', book.decide({ customerId: 'C-1' }, at, earningIdFor));
    // The log holds another decision for e1 (say, made by an older version): it wins.
    book.apply({ type: 'RuleMatched', data: { eventId: 'e1', campaignId: 'c1', ruleId: 'a', earningId: 'x', beneficiaryId: 'C-1', amount: 900, currency: 'EUR' } });
    expect(book.decide({ customerId: 'C-2' }, at, earningIdFor).matches[0]?.amount).to.equal(100);
    book.record('e2', book.decide({ customerId: 'C-2' }, at, earningIdFor));
    book.apply({ type: 'EventSkipped', data: { eventId: 'e2', reasons: [] } });
    expect(book.decide({ customerId: 'C-3' }, at, earningIdFor).matches[0]?.amount).to.equal(100);
  });

  it('skips a percentage reward too large to grant exactly', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'pct', 0, {}, 0, 'customerId', { reward: { type: 'percentage', rate: 0.05, of: 'amount', cap: null } })].forEach(book.apply);
    const decision = book.decide({ customerId: 'C-1', amount: 1e20 }, at, earningIdFor);
    expect(decision.matches).to.deep.equal([]);
    expect(decision.reasons[0]?.reason).to.match(/beyond the largest amount/);
  });

  it('judges a campaign window at the moment given', () => {
    const book = createRuleBook();
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'c1', name: 'c1', description: null, currency: 'EUR', budget: null, startsAt: '2026-03-02T00:00:00.000Z', endsAt: '2026-03-03T00:00:00.000Z', status: 'scheduled', createdAt: at } });
    book.apply(rule('c1', 'a', 0, {}));
    const earns = (moment: string) => book.decide({ customerId: 'C-1' }, moment, earningIdFor).matches.length;
    expect([earns('2026-03-01T23:59:59.999Z'), earns('2026-03-02T00:00:00.000Z'), earns('2026-03-03T00:00:00.000Z')]).to.deep.equal([0, 1, 0]);
  });

  it('lets the window decide around the schedule transitions, whatever order the log received them in', () => {
    const book = createRuleBook();
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'c1', name: 'c1', description: null, currency: 'EUR', budget: null, startsAt: '2026-03-02T00:00:00.000Z', endsAt: '2026-03-03T00:00:00.000Z', status: 'scheduled', createdAt: at } });
    book.apply(rule('c1', 'a', 0, {}));
    const earns = (moment: string) => book.decide({ customerId: 'C-1' }, moment, earningIdFor).matches.length;
    book.apply({ type: 'CampaignActivated', data: { campaignId: 'c1', at: '2026-03-02T00:00:00.100Z', by: 'schedule' } });
    expect([earns('2026-03-01T23:59:59.999Z'), earns('2026-03-02T12:00:00.000Z')]).to.deep.equal([0, 1]);
    book.apply({ type: 'CampaignEnded', data: { campaignId: 'c1', at: '2026-03-03T00:00:00.100Z', by: 'schedule' } });
    expect([earns('2026-03-02T23:59:59.999Z'), earns('2026-03-03T00:00:00.000Z')]).to.deep.equal([1, 0]);
  });

  it('ends at once when a person ends the campaign', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, {})].forEach(book.apply);
    book.apply({ type: 'CampaignEnded', data: { campaignId: 'c1', at, by: 'api' } });
    expect(book.decide({ customerId: 'C-1' }, at, earningIdFor).matches).to.deep.equal([]);
  });

  it('reads conditions, the beneficiary and the reward base from fields the document has, not from what JavaScript adds', () => {
    const book = createRuleBook();
    [
      campaign('c1'), rule('c1', 'to-constructor', 0, {}, 500, 'constructor.name'),
      campaign('c2'), rule('c2', 'half-of-length', 0, {}, 0, 'customerId', { reward: { type: 'percentage', rate: 0.5, of: 'items.length', cap: null } }),
      campaign('c3'), rule('c3', 'on-constructor', 0, { 'constructor.name': 'Object' }),
    ].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1', items: [1, 2, 3, 4] }, at, earningIdFor)).to.deep.equal({
      matches: [],
      reasons: [
        { campaignId: 'c1', reason: 'rule to-constructor matched but the document has no beneficiary at "constructor.name"' },
        { campaignId: 'c2', reason: 'rule half-of-length matched but no number at "items.length" to take 50% of' },
        { campaignId: 'c3', reason: 'no rule matched' },
      ],
    });
    // Where the document does have those fields, they count like any other.
    const { matches } = book.decide(JSON.parse('{"customerId": "C-1", "constructor": {"name": "Object"}, "items": {"length": 4}}'), at, earningIdFor);
    expect(matches.map(({ ruleId, beneficiaryId, amount }) => ({ ruleId, beneficiaryId, amount }))).to.deep.equal([
      { ruleId: 'to-constructor', beneficiaryId: 'Object', amount: 500 },
      { ruleId: 'half-of-length', beneficiaryId: 'C-1', amount: 200 },
      { ruleId: 'on-constructor', beneficiaryId: 'C-1', amount: 500 },
    ]);
  });

  it('lets a recorded rule that can no longer compile match nothing, and goes on', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'lookahead', 9, { sku: { $regex: 'A(?=B)' } }), rule('c1', 'plain', 0, { sku: { $regex: '^A' } }, 100)].forEach(book.apply);
    expect(book.decide({ sku: 'AB', customerId: 'C-1' }, at, earningIdFor).matches.map((m) => m.ruleId)).to.deep.equal(['plain']);
    expect(book.explain({ sku: 'AB', customerId: 'C-1' }, at)).to.deep.equal([
      { campaignId: 'c1', ruleId: 'lookahead', matched: false, failedPath: '/conditions/sku' },
      { campaignId: 'c1', ruleId: 'plain', matched: true },
    ]);
  });
});
