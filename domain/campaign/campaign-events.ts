import type { Minor } from '../money.ts';
import type { Conditions } from '../rules/conditions.ts';
import type { Reward } from '../rules/rule.ts';

export type CampaignStatus = 'scheduled' | 'active' | 'paused' | 'ended';

export type CampaignCreated = {
  readonly type: 'CampaignCreated';
  readonly data: {
    readonly campaignId: string;
    readonly name: string;
    readonly description: string | null;
    readonly currency: string;
    readonly budget: Minor | null;
    readonly startsAt: string | null;
    readonly endsAt: string | null;
    readonly status: 'scheduled' | 'active';
    readonly createdAt: string;
  };
};

export type RuleAdded = {
  readonly type: 'RuleAdded';
  readonly data: {
    readonly campaignId: string;
    readonly ruleId: string;
    readonly name: string;
    readonly priority: number;
    readonly conditions: Conditions;
    readonly reward: Reward;
    readonly beneficiary: string;
    readonly addedAt: string;
  };
};

export type CampaignEvent = CampaignCreated | RuleAdded;

export const campaignStream = (campaignId: string): string => `campaign-${campaignId}`;
