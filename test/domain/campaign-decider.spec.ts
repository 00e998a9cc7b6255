import { campaignDecider } from '../../domain/campaign/campaign-decider.ts';
import type { CampaignCreated, RuleAdded } from '../../domain/campaign/campaign-events.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(campaignDecider);
const now = '2026-03-01T10:00:00.000Z';

const created: CampaignCreated = {
  type: 'CampaignCreated',
  data: {
    campaignId: 'c1', name: 'Spring Sale 2024', description: null, currency: 'EUR', budget: null,
    startsAt: null, endsAt: null, status: 'active', createdAt: now, holdDays: 0, refundDays: 365,
  },
};

const ended = { type: 'CampaignEnded' as const, data: { campaignId: 'c1', at: now, by: 'api' as const } };

const addRule = (overrides: Partial<{ conditions: object; amount: number }> = {}) => ({
  type: 'AddRule' as const,
  data: {
    ruleId: 'r1', name: 'merchant 1', priority: 10, beneficiary: 'customerId', now,
    conditions: (overrides.conditions ?? { merchantId: 'MERCHANT_001' }) as never,
    reward: { type: 'fixed' as const, amount: overrides.amount ?? 5 },
  },
});

describe('campaign decider', () => {
  describe('CreateCampaign', () => {
    it('creates an active campaign, with money in minor units', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'Spring Sale 2024', currency: 'EUR', budget: 1000.5, now } })
        .then([{ ...created, data: { ...created.data, budget: 100050 } }]));

    it('creates a scheduled campaign when it starts in the future', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'EUR', startsAt: '2026-04-01T00:00:00.000Z', now } })
        .then([{ ...created, data: { ...created.data, name: 'n', startsAt: '2026-04-01T00:00:00.000Z', status: 'scheduled' } }]));

    it('carries holdDays, so that its earnings stay pending that many days', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'Spring Sale 2024', currency: 'EUR', holdDays: 3, now } })
        .then([{ ...created, data: { ...created.data, holdDays: 3 } }]));

    for (const holdDays of [-1, 1.5]) {
      it(`refuses holdDays ${holdDays}, naming the field`, () =>
        spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'EUR', holdDays, now } }).thenRefuses('invalid', '/holdDays'));
    }

    it('records the refund window it was created with, a year unless it says otherwise', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'Spring Sale 2024', currency: 'EUR', refundDays: 30, now } })
        .then([{ ...created, data: { ...created.data, refundDays: 30 } }]));

    for (const refundDays of [-1, 2.5]) {
      it(`refuses refundDays ${refundDays}, naming the field`, () =>
        spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'EUR', refundDays, now } }).thenRefuses('invalid', '/refundDays'));
    }

    it('refuses to create a campaign twice', () =>
      spec.given([created]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'EUR', now } }).thenRefuses('conflict'));

    it('refuses an unknown currency, naming the field', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'XYZ', now } }).thenRefuses('invalid', '/currency'));

    it('refuses a budget finer than the currency minor unit', () =>
      spec.given([]).when({ type: 'CreateCampaign', data: { campaignId: 'c1', name: 'n', currency: 'EUR', budget: 1.005, now } }).thenRefuses('invalid', '/budget'));

    it('refuses an end before the start', () =>
      spec.given([]).when({
        type: 'CreateCampaign',
        data: { campaignId: 'c1', name: 'n', currency: 'EUR', startsAt: '2026-05-01T00:00:00Z', endsAt: '2026-04-01T00:00:00Z', now },
      }).thenRefuses('invalid', '/endsAt'));
  });

  describe('AddRule', () => {
    const added: RuleAdded = {
      type: 'RuleAdded',
      data: {
        campaignId: 'c1', ruleId: 'r1', name: 'merchant 1', priority: 10, conditions: { merchantId: 'MERCHANT_001' },
        reward: { type: 'fixed', amount: 500 }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: now,
      },
    };

    it('adds a rule with its reward in minor units', () => spec.given([created]).when(addRule()).then([added]));

    it('refuses a rule for a campaign that does not exist', () => spec.given([]).when(addRule()).thenRefuses('not_found'));

    it('refuses an operator outside the whitelist, naming its path', () =>
      spec.given([created]).when(addRule({ conditions: { merchantId: { $where: 'true' } } })).thenRefuses('invalid', '/conditions/merchantId/$where'));

    it('refuses a malformed regular expression', () =>
      spec.given([created]).when(addRule({ conditions: { name: { $regex: '(' } } })).thenRefuses('invalid', '/conditions/name/$regex'));

    it('refuses a reward finer than a cent', () => spec.given([created]).when(addRule({ amount: 0.001 })).thenRefuses('invalid', '/reward/amount'));

    it('adds a percentage reward with its cap in minor units, and limits', () =>
      spec.given([created]).when({
        type: 'AddRule',
        data: { ...addRule().data, reward: { type: 'percentage', rate: 0.05, of: 'amount', cap: 20 }, limits: { maxPerBeneficiary: 3 } },
      }).then([{ type: 'RuleAdded', data: { ...added.data, reward: { type: 'percentage', rate: 0.05, of: 'amount', cap: 2000 }, limits: { maxPerBeneficiary: 3 } } }]));

    it('refuses a rule on an ended campaign', () => spec.given([created, ended]).when(addRule()).thenRefuses('conflict'));

    it('removes a rule of the campaign', () =>
      spec.given([created, added]).when({ type: 'RemoveRule', data: { ruleId: 'r1', now } })
        .then([{ type: 'RuleRemoved', data: { campaignId: 'c1', ruleId: 'r1', removedAt: now } }]));

    it('refuses to remove a rule it does not have, or twice', () => {
      spec.given([created]).when({ type: 'RemoveRule', data: { ruleId: 'r1', now } }).thenRefuses('not_found');
      spec.given([created, added, { type: 'RuleRemoved', data: { campaignId: 'c1', ruleId: 'r1', removedAt: now } }])
        .when({ type: 'RemoveRule', data: { ruleId: 'r1', now } }).thenRefuses('not_found');
    });
  });

  describe('lifecycle: scheduled → active ⇄ paused → ended', () => {
    const scheduled: CampaignCreated = { ...created, data: { ...created.data, status: 'scheduled', startsAt: '2026-04-01T00:00:00.000Z' } };
    const transition = (type: 'ActivateCampaign' | 'PauseCampaign' | 'EndCampaign') => ({ type, data: { now, by: 'api' as const } });
    const activated = { type: 'CampaignActivated' as const, data: { campaignId: 'c1', at: now, by: 'api' as const } };
    const paused = { type: 'CampaignPaused' as const, data: { campaignId: 'c1', at: now, by: 'api' as const } };

    it('activates a scheduled campaign', () => spec.given([scheduled]).when(transition('ActivateCampaign')).then([activated]));
    it('pauses an active campaign', () => spec.given([created]).when(transition('PauseCampaign')).then([paused]));
    it('resumes a paused campaign', () => spec.given([created, paused]).when(transition('ActivateCampaign')).then([activated]));
    it('ends a paused campaign', () => spec.given([created, paused]).when(transition('EndCampaign')).then([{ ...ended }]));
    it('refuses to pause a scheduled campaign', () => spec.given([scheduled]).when(transition('PauseCampaign')).thenRefuses('conflict'));
    it('refuses to activate an active campaign', () => spec.given([created]).when(transition('ActivateCampaign')).thenRefuses('conflict'));
    it('keeps an ended campaign ended', () => {
      for (const type of ['ActivateCampaign', 'PauseCampaign', 'EndCampaign'] as const) spec.given([created, ended]).when(transition(type)).thenRefuses('conflict');
    });
    it('cannot change a campaign that does not exist', () => spec.given([]).when(transition('PauseCampaign')).thenRefuses('not_found'));
  });
});
