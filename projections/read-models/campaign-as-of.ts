import { statusAfter, type CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { toMajor } from '../../domain/money.ts';
import type { Reward } from '../../domain/rules/rule.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';

/** Rewards as the HTTP contract shows them: money in major units. */
export const rewardView = (reward: Reward, currency: string) =>
  reward.type === 'fixed'
    ? { type: 'fixed', amount: toMajor(reward.amount, currency) }
    : { type: 'percentage', rate: reward.rate, of: reward.of, ...(reward.cap === null ? {} : { cap: toMajor(reward.cap, currency) }) };

/** A read model is read by whoever may query: the webhook secret stays in the log, and the view says only that there is one. */
export const withoutSecret = ({ secret, ...shown }: CampaignNotifications) => ({ ...shown, hasSecret: secret !== undefined });

export interface CampaignAsOf {
  id: string;
  name: string;
  description: string | null;
  currency: string;
  budget: number | null;
  holdDays: number;
  /** Null: no limit (a campaign created before refunds). */
  refundDays: number | null;
  notifications: ReturnType<typeof withoutSecret> | null;
  startsAt: string | null;
  endsAt: string | null;
  status: string;
  createdAt: string;
  /** The campaign stream's revision this is the campaign at. */
  revision: string;
  rules: { id: string; name: string; priority: number; conditions: unknown; reward: ReturnType<typeof rewardView>; beneficiary: string; limits: unknown; addedAt: string }[];
}

/**
 * GET /campaigns/:id/history: one campaign as its stream's events up to some
 * point make it, folded in memory the way the campaigns projection writes its
 * rows (without totals, which other streams make). Undefined before its CampaignCreated.
 */
export const campaignAsOf = (recorded: readonly RecordedEvent[]): CampaignAsOf | undefined => {
  let campaign: CampaignAsOf | undefined;
  for (const each of recorded) {
    const event = asDomainEvent<CampaignEvent>(each);
    const { revision } = each;
    if (event.type === 'CampaignCreated') {
      const { campaignId, name, description, currency, budget, holdDays = 0, refundDays = null, notifications, startsAt, endsAt, status, createdAt } = event.data;
      campaign = {
        id: campaignId, name, description, currency, budget: budget === null ? null : toMajor(budget, currency), holdDays, refundDays,
        notifications: notifications ? withoutSecret(notifications) : null, startsAt, endsAt, status, createdAt, revision: revision.toString(), rules: [],
      };
      continue;
    }
    if (!campaign) continue;
    campaign.revision = revision.toString();
    switch (event.type) {
      case 'CampaignDescriptionGenerated':
        campaign.description = event.data.text;
        break;
      case 'CampaignActivated':
      case 'CampaignPaused':
      case 'CampaignEnded':
        campaign.status = statusAfter(event)!;
        break;
      case 'RuleAdded': {
        const { ruleId, name, priority, conditions, reward, beneficiary, limits, addedAt } = event.data;
        campaign.rules.push({ id: ruleId, name, priority, conditions, reward: rewardView(reward, campaign.currency), beneficiary, limits, addedAt });
        break;
      }
      case 'RuleRemoved':
        campaign.rules = campaign.rules.filter((rule) => rule.id !== event.data.ruleId);
        break;
    }
  }
  // As GET /campaigns/:id lists them: by descending priority, then in order of addition.
  campaign?.rules.sort((a, b) => b.priority - a.priority);
  return campaign;
};
