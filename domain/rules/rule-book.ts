import type { CampaignEvent, CampaignStatus } from '../campaign/campaign-events.ts';
import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';
import type { Match, SkipReason } from '../tracked-event/tracked-event-events.ts';
import { compileConditions, type Matcher } from './conditions.ts';
import { valueAtKeys } from './document-path.ts';
import { createEqualityIndex, indexKeysOf } from './equality-index.ts';
import { rewardFor } from './reward.ts';
import type { Rule } from './rule.ts';

interface CompiledRule extends Rule {
  readonly campaign: CampaignInForce;
  /** Compiled once, when the rule is added. */
  readonly matches: Matcher;
  readonly beneficiaryKeys: readonly string[];
  /** Order of addition: breaks priority ties, so the older rule wins. */
  readonly sequence: number;
  /** Global trial order: campaign by campaign, then by priority. */
  rank: number;
}

interface CampaignInForce {
  readonly campaignId: string;
  readonly ordinal: number;
  readonly currency: string;
  readonly budget: Minor | null;
  status: CampaignStatus;
  /** Descending priority, then order of addition. */
  rules: CompiledRule[];
  granted: Minor;
  earningsByBeneficiary: Map<string, number>;
}

export type Decision = { readonly matches: readonly Match[]; readonly reasons: readonly SkipReason[] };

export interface RuleExplanation {
  readonly campaignId: string;
  readonly ruleId: string;
  readonly matched: boolean;
  /** JSON pointer of the first top-level condition the document fails. */
  readonly failedPath?: string;
}

/**
 * The rule engine's view of every campaign, folded from the log in order:
 * rules, statuses, budgets spent and earnings per beneficiary. A tracked event
 * is decided against the book as it stood at the event's position, and the
 * decision is recorded before the next one, so replaying the log from zero
 * decides the same.
 */
export interface RuleBook {
  apply(event: CampaignEvent): void;
  /** What the rules in force grant for this document. Reads the book, changes nothing. `earningIdFor` supplies ids. */
  decide(document: JsonObject, earningIdFor: (campaignId: string) => string): Decision;
  /** Counts a decision against budgets and limits. */
  record(decision: Decision): void;
  /** For every rule of every active campaign: would it match, and if not, which condition fails first. */
  explain(document: JsonObject): RuleExplanation[];
}

const RANKS_PER_CAMPAIGN = 1_000_000;

export const createRuleBook = (): RuleBook => {
  const campaigns = new Map<string, CampaignInForce>();
  const index = createEqualityIndex<CompiledRule>((a, b) => a.rank - b.rank);
  let sequence = 0;

  const rerank = (campaign: CampaignInForce): void => {
    campaign.rules.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
    campaign.rules.forEach((rule, i) => (rule.rank = campaign.ordinal * RANKS_PER_CAMPAIGN + i));
  };

  /** Whether this rule can grant to this document now, and how much; or why not. */
  const grant = (rule: CompiledRule, document: JsonObject): { beneficiaryId: string; amount: Minor } | { reason: string; final?: boolean } => {
    const { campaign } = rule;
    const beneficiary = valueAtKeys(document, rule.beneficiaryKeys);
    if (typeof beneficiary !== 'string' && typeof beneficiary !== 'number') {
      return { reason: `rule ${rule.ruleId} matched but the document has no beneficiary at "${rule.beneficiary}"` };
    }
    const beneficiaryId = String(beneficiary);
    const max = rule.limits.maxPerBeneficiary;
    if (max !== null && (campaign.earningsByBeneficiary.get(beneficiaryId) ?? 0) >= max) {
      return { reason: `rule ${rule.ruleId} matched but ${beneficiaryId} reached its limit of ${max}` };
    }
    const reward = rewardFor(rule.reward, document, campaign.currency);
    if ('skip' in reward) return { reason: `rule ${rule.ruleId} matched but ${reward.skip}` };
    if (campaign.budget === null) return { beneficiaryId, amount: reward.amount };
    const left = campaign.budget - campaign.granted;
    if (left <= 0) return { reason: 'budget exhausted', final: true };
    return { beneficiaryId, amount: Math.min(reward.amount, left) };
  };

  return {
    apply(event) {
      switch (event.type) {
        case 'CampaignCreated': {
          const { campaignId, currency, status, budget } = event.data;
          campaigns.set(campaignId, { campaignId, ordinal: campaigns.size, currency, budget, status, rules: [], granted: 0, earningsByBeneficiary: new Map() });
          return;
        }
        case 'CampaignActivated':
        case 'CampaignPaused':
        case 'CampaignEnded': {
          const campaign = campaigns.get(event.data.campaignId);
          if (campaign) campaign.status = event.type === 'CampaignActivated' ? 'active' : event.type === 'CampaignPaused' ? 'paused' : 'ended';
          return;
        }
        case 'RuleAdded': {
          const campaign = campaigns.get(event.data.campaignId);
          if (!campaign) return;
          const { ruleId, name, priority, conditions, reward, beneficiary, limits } = event.data;
          const rule: CompiledRule = {
            ruleId, name, priority, conditions, reward, beneficiary, limits, campaign,
            matches: compileConditions(conditions), beneficiaryKeys: beneficiary.split('.'), sequence: sequence++, rank: 0,
          };
          campaign.rules.push(rule);
          rerank(campaign);
          index.add(rule, indexKeysOf(conditions));
          return;
        }
        case 'RuleRemoved': {
          const campaign = campaigns.get(event.data.campaignId);
          const rule = campaign?.rules.find((candidate) => candidate.ruleId === event.data.ruleId);
          if (!campaign || !rule) return;
          campaign.rules = campaign.rules.filter((candidate) => candidate !== rule);
          rerank(campaign);
          index.remove(rule);
          return;
        }
      }
    },

    decide(document, earningIdFor) {
      const matches: Match[] = [];
      const reasonsByCampaign = new Map<string, string>();
      let done: CampaignInForce | undefined;
      for (const rule of index.candidates(document)) {
        if (rule.campaign === done || rule.campaign.status !== 'active' || !rule.matches(document)) continue;
        const outcome = grant(rule, document);
        if ('amount' in outcome) {
          done = rule.campaign;
          const { campaignId, currency } = rule.campaign;
          matches.push({ campaignId, ruleId: rule.ruleId, earningId: earningIdFor(campaignId), beneficiaryId: outcome.beneficiaryId, amount: outcome.amount, currency });
        } else {
          // Only the first reason per campaign is kept: the highest-priority rule that matched.
          if (!reasonsByCampaign.has(rule.campaign.campaignId)) reasonsByCampaign.set(rule.campaign.campaignId, outcome.reason);
          if (outcome.final) done = rule.campaign;
        }
      }
      if (matches.length > 0) return { matches, reasons: [] };
      const reasons: SkipReason[] = [];
      for (const campaign of campaigns.values()) {
        if (campaign.status !== 'active') continue;
        reasons.push({ campaignId: campaign.campaignId, reason: reasonsByCampaign.get(campaign.campaignId) ?? 'no rule matched' });
      }
      return { matches, reasons: reasons.length > 0 ? reasons : [{ campaignId: null, reason: 'no active campaign' }] };
    },

    record({ matches }) {
      for (const { campaignId, beneficiaryId, amount } of matches) {
        const campaign = campaigns.get(campaignId);
        if (!campaign) continue;
        campaign.granted += amount;
        campaign.earningsByBeneficiary.set(beneficiaryId, (campaign.earningsByBeneficiary.get(beneficiaryId) ?? 0) + 1);
      }
    },

    explain(document) {
      const explanations: RuleExplanation[] = [];
      for (const campaign of campaigns.values()) {
        if (campaign.status !== 'active') continue;
        for (const rule of campaign.rules) {
          if (rule.matches(document)) {
            explanations.push({ campaignId: campaign.campaignId, ruleId: rule.ruleId, matched: true });
            continue;
          }
          const failed = Object.entries(rule.conditions).find(([path, condition]) => !compileConditions({ [path]: condition })(document));
          explanations.push({
            campaignId: campaign.campaignId, ruleId: rule.ruleId, matched: false,
            ...(failed ? { failedPath: `/conditions/${failed[0].replaceAll('~', '~0').replaceAll('/', '~1')}` } : {}),
          });
        }
      }
      return explanations;
    },
  };
};
