import type { Minor } from '../money.ts';
import type { CampaignNotifications } from '../message/notifications.ts';
import type { Rule } from '../rules/rule.ts';

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
    /**
     * Days an earning stays pending before it is approved (refunds within that
     * time can still take it back). Absent in events written before holds
     * existed, which means 0: approved when granted.
     */
    readonly holdDays?: number;
    /**
     * Days after its tracked event's registration that an earning can still be
     * reversed by a refund; a refund registered later reverses nothing of it.
     * Absent in events written before refunds existed, which means no limit.
     */
    readonly refundDays?: number;
    /** Absent when the campaign sends no messages, and in events written before messaging existed. */
    readonly notifications?: CampaignNotifications;
    /**
     * Present when the description is to be written by the LLM gateway
     * (`generateDescription` or `descriptionPrompt`); the prompt is the
     * client's own words, null when only the name is to go on. Absent otherwise,
     * and in events written before campaign copy existed.
     */
    readonly descriptionRequest?: { readonly prompt: string | null };
  };
};

/** The description a language model (or the offline provider) wrote for a campaign that asked for one; at most one per campaign. */
export type CampaignDescriptionGenerated = {
  readonly type: 'CampaignDescriptionGenerated';
  readonly data: {
    readonly campaignId: string;
    readonly text: string;
    readonly provider: string;
    readonly model: string;
    readonly cached: boolean;
    readonly generatedAt: string;
  };
};

/** `by`: a person through the API, or the schedule (startsAt / endsAt reached). */
export type TransitionCause = 'api' | 'schedule';

export type CampaignActivated = { readonly type: 'CampaignActivated'; readonly data: { readonly campaignId: string; readonly at: string; readonly by: TransitionCause } };
export type CampaignPaused = { readonly type: 'CampaignPaused'; readonly data: { readonly campaignId: string; readonly at: string; readonly by: TransitionCause } };
export type CampaignEnded = { readonly type: 'CampaignEnded'; readonly data: { readonly campaignId: string; readonly at: string; readonly by: TransitionCause } };

export type RuleAdded = { readonly type: 'RuleAdded'; readonly data: Rule & { readonly campaignId: string; readonly addedAt: string } };

export type RuleRemoved = { readonly type: 'RuleRemoved'; readonly data: { readonly campaignId: string; readonly ruleId: string; readonly removedAt: string } };

export type CampaignEvent = CampaignCreated | CampaignActivated | CampaignPaused | CampaignEnded | CampaignDescriptionGenerated | RuleAdded | RuleRemoved;

export const CAMPAIGN_EVENT_TYPES: readonly CampaignEvent['type'][] = [
  'CampaignCreated', 'CampaignActivated', 'CampaignPaused', 'CampaignEnded', 'CampaignDescriptionGenerated', 'RuleAdded', 'RuleRemoved',
];

/** The status a campaign event leaves the campaign in; null for events that do not change it. */
export const statusAfter = (event: CampaignEvent): CampaignStatus | null => {
  switch (event.type) {
    case 'CampaignCreated':
      return event.data.status;
    case 'CampaignActivated':
      return 'active';
    case 'CampaignPaused':
      return 'paused';
    case 'CampaignEnded':
      return 'ended';
    default:
      return null;
  }
};

export const campaignStream = (campaignId: string): string => `campaign-${campaignId}`;
