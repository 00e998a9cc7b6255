import type { CampaignEvent, CampaignStatus } from '../campaign/campaign-events.ts';
import type { JsonObject } from '../json.ts';
import type { Match, SkipReason } from '../tracked-event/tracked-event-events.ts';
import { compileConditions, type Matcher } from './conditions.ts';
import { valueAt } from './document-path.ts';
import { rewardAmount } from './reward.ts';
import type { Rule } from './rule.ts';

interface CompiledRule extends Rule {
  readonly matches: Matcher;
  /** Order of addition: breaks priority ties, so the older rule wins. */
  readonly sequence: number;
}

interface CampaignInForce {
  readonly campaignId: string;
  readonly currency: string;
  status: CampaignStatus;
  /** Descending priority, then order of addition. */
  rules: CompiledRule[];
}

export type Decision = { readonly matches: readonly Match[]; readonly reasons: readonly SkipReason[] };

/**
 * The rule engine's view of every campaign, folded from the log in order.
 * Because a tracked event is decided against the book as it stood at the
 * event's position, replaying the log from zero decides the same.
 */
export interface RuleBook {
  apply(event: CampaignEvent): void;
  /** `earningIdFor` supplies ids (the domain makes none). */
  decide(document: JsonObject, earningIdFor: (campaignId: string) => string): Decision;
}

export const createRuleBook = (): RuleBook => {
  const campaigns = new Map<string, CampaignInForce>();
  let sequence = 0;

  return {
    apply(event) {
      switch (event.type) {
        case 'CampaignCreated': {
          const { campaignId, currency, status } = event.data;
          campaigns.set(campaignId, { campaignId, currency, status, rules: [] });
          return;
        }
        case 'RuleAdded': {
          const campaign = campaigns.get(event.data.campaignId);
          if (!campaign) return;
          const { ruleId, name, priority, conditions, reward, beneficiary } = event.data;
          const rule: CompiledRule = { ruleId, name, priority, conditions, reward, beneficiary, matches: compileConditions(conditions), sequence: sequence++ };
          campaign.rules = [...campaign.rules, rule].sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
          return;
        }
      }
    },

    decide(document, earningIdFor) {
      const matches: Match[] = [];
      const reasons: SkipReason[] = [];
      let active = 0;
      for (const campaign of campaigns.values()) {
        if (campaign.status !== 'active') continue;
        active++;
        const rule = campaign.rules.find((candidate) => candidate.matches(document));
        if (!rule) {
          reasons.push({ campaignId: campaign.campaignId, reason: 'no rule matched' });
          continue;
        }
        const beneficiary = valueAt(document, rule.beneficiary);
        if (typeof beneficiary !== 'string' && typeof beneficiary !== 'number') {
          reasons.push({ campaignId: campaign.campaignId, reason: `rule ${rule.ruleId} matched but the document has no beneficiary at "${rule.beneficiary}"` });
          continue;
        }
        matches.push({
          campaignId: campaign.campaignId,
          ruleId: rule.ruleId,
          earningId: earningIdFor(campaign.campaignId),
          beneficiaryId: String(beneficiary),
          amount: rewardAmount(rule.reward),
          currency: campaign.currency,
        });
      }
      if (active === 0) reasons.push({ campaignId: null, reason: 'no active campaign' });
      return { matches, reasons };
    },
  };
};
