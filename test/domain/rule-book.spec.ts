import { expect } from 'chai';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { createRuleBook } from '../../domain/rules/rule-book.ts';

const at = '2026-03-01T10:00:00.000Z';
const campaign = (campaignId: string, status: 'active' | 'scheduled' = 'active'): CampaignEvent => ({
  type: 'CampaignCreated',
  data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status, createdAt: at },
});
const rule = (campaignId: string, ruleId: string, priority: number, conditions: Record<string, unknown>, amount = 500, beneficiary = 'customerId'): CampaignEvent => ({
  type: 'RuleAdded',
  data: { campaignId, ruleId, name: ruleId, priority, conditions: conditions as never, reward: { type: 'fixed', amount }, beneficiary, addedAt: at },
});
const earningIdFor = (campaignId: string) => `earning-for-${campaignId}`;

describe('rule book', () => {
  it('tries rules by descending priority and takes the first match per campaign', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'low', 1, { merchantId: 'M1' }, 100), rule('c1', 'high', 9, { merchantId: 'M1' }, 900)].forEach(book.apply);
    const { matches } = book.decide({ merchantId: 'M1', customerId: 'C-1' }, earningIdFor);
    expect(matches).to.deep.equal([{ campaignId: 'c1', ruleId: 'high', earningId: 'earning-for-c1', beneficiaryId: 'C-1', amount: 900, currency: 'EUR' }]);
  });

  it('lets the older rule win a priority tie', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'first', 5, {}), rule('c1', 'second', 5, {})].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1' }, earningIdFor).matches[0]?.ruleId).to.equal('first');
  });

  it('stacks campaigns: one match in each', () => {
    const book = createRuleBook();
    [campaign('c1'), campaign('c2'), rule('c1', 'a', 0, { merchantId: 'M1' }), rule('c2', 'b', 0, { 'data.channel': 'web' })].forEach(book.apply);
    const { matches } = book.decide({ merchantId: 'M1', customerId: 'C-1', data: { channel: 'web' } }, earningIdFor);
    expect(matches.map((m) => m.ruleId)).to.deep.equal(['a', 'b']);
  });

  it('gives a reason per campaign when nothing matches', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, { merchantId: 'M1' })].forEach(book.apply);
    expect(book.decide({ merchantId: 'M2', customerId: 'C-1' }, earningIdFor)).to.deep.equal({
      matches: [],
      reasons: [{ campaignId: 'c1', reason: 'no rule matched' }],
    });
  });

  it('skips a match whose document names no beneficiary', () => {
    const book = createRuleBook();
    [campaign('c1'), rule('c1', 'a', 0, {}, 500, 'member.id')].forEach(book.apply);
    const decision = book.decide({ customerId: 'C-1' }, earningIdFor);
    expect(decision.matches).to.deep.equal([]);
    expect(decision.reasons[0]?.reason).to.match(/no beneficiary at "member.id"/);
  });

  it('ignores campaigns that are not active and says when none is', () => {
    const book = createRuleBook();
    [campaign('c1', 'scheduled'), rule('c1', 'a', 0, {})].forEach(book.apply);
    expect(book.decide({ customerId: 'C-1' }, earningIdFor)).to.deep.equal({ matches: [], reasons: [{ campaignId: null, reason: 'no active campaign' }] });
  });

  it('only knows the rules added before the moment it decides', () => {
    const book = createRuleBook();
    book.apply(campaign('c1'));
    expect(book.decide({ customerId: 'C-1' }, earningIdFor).matches).to.have.length(0);
    book.apply(rule('c1', 'a', 0, {}));
    expect(book.decide({ customerId: 'C-1' }, earningIdFor).matches).to.have.length(1);
  });
});
