import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import { validateNotifications, type CampaignNotifications } from '../message/notifications.ts';
import { isCurrency, toMinor } from '../money.ts';
import { validateConditions, type Conditions } from '../rules/conditions.ts';
import type { Reward } from '../rules/rule.ts';
import { statusAfter, type CampaignEvent, type CampaignStatus, type TransitionCause } from './campaign-events.ts';

export type CampaignState =
  | { readonly status: 'none' }
  | {
      readonly status: CampaignStatus;
      readonly campaignId: string;
      readonly currency: string;
      readonly startsAt: string | null;
      readonly endsAt: string | null;
      readonly ruleIds: readonly string[];
      /** What the description comes from: the client (`given`, or none at all), or the gateway (`requested`, then `generated`). */
      readonly description: 'given' | 'requested' | 'generated';
    };

/** Rewards as the HTTP contract has them: money in major units of the campaign currency. */
export type RewardInput =
  | { readonly type: 'fixed'; readonly amount: number }
  | { readonly type: 'percentage'; readonly rate: number; readonly of: string; readonly cap?: number };

export type CampaignCommand =
  | {
      readonly type: 'CreateCampaign';
      readonly data: {
        readonly campaignId: string;
        readonly name: string;
        readonly description?: string;
        readonly currency: string;
        /** Major units of `currency`. */
        readonly budget?: number;
        readonly startsAt?: string;
        readonly endsAt?: string;
        readonly notifications?: CampaignNotifications;
        /** Whole days each earning stays pending; 0 (the default) approves it when granted. */
        readonly holdDays?: number;
        /** Whole days after its tracked event that an earning can be reversed by a refund; DEFAULT_REFUND_DAYS when absent. */
        readonly refundDays?: number;
        /** Have the LLM gateway write the description from the name (and `descriptionPrompt`, which implies it). */
        readonly generateDescription?: boolean;
        readonly descriptionPrompt?: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordGeneratedDescription';
      readonly data: { readonly text: string; readonly provider: string; readonly model: string; readonly cached: boolean; readonly now: string };
    }
  | { readonly type: 'ActivateCampaign' | 'PauseCampaign' | 'EndCampaign'; readonly data: { readonly now: string; readonly by: TransitionCause } }
  | {
      readonly type: 'AddRule';
      readonly data: {
        readonly ruleId: string;
        readonly name: string;
        readonly priority: number;
        readonly conditions: Conditions;
        readonly reward: RewardInput;
        readonly beneficiary: string;
        readonly limits?: { readonly maxPerBeneficiary?: number };
        readonly now: string;
      };
    }
  | { readonly type: 'RemoveRule'; readonly data: { readonly ruleId: string; readonly now: string } };

/** scheduled → active ⇄ paused → ended; `ended` is final. */
const TRANSITIONS = {
  ActivateCampaign: { from: ['scheduled', 'paused'], event: 'CampaignActivated' },
  PauseCampaign: { from: ['active'], event: 'CampaignPaused' },
  EndCampaign: { from: ['scheduled', 'active', 'paused'], event: 'CampaignEnded' },
} as const;

const toReward = (input: RewardInput, currency: string): Reward => {
  if (input.type === 'fixed') {
    const amount = toMinor(input.amount, currency, '/reward/amount');
    if (amount <= 0) throw new DomainError('invalid', 'reward amount must be positive', '/reward/amount');
    return { type: 'fixed', amount };
  }
  if (!(input.rate > 0 && input.rate <= 10)) throw new DomainError('invalid', 'rate must be above 0 and at most 10 (1000%)', '/reward/rate');
  const cap = input.cap === undefined ? null : toMinor(input.cap, currency, '/reward/cap');
  if (cap !== null && cap <= 0) throw new DomainError('invalid', 'cap must be positive', '/reward/cap');
  return { type: 'percentage', rate: input.rate, of: input.of, cap };
};

/**
 * Whether the description is to be generated, and from what. A description
 * given and one asked for at once is refused rather than one silently
 * winning, and so is `generateDescription: false` with a prompt: the client
 * said two things, and only it knows which it meant.
 */
const requestedDescription = (description: string | undefined, generate: boolean | undefined, prompt: string | undefined): { prompt: string | null } | null => {
  if (generate === false && prompt !== undefined) throw new DomainError('invalid', 'descriptionPrompt asks for a generated description; generateDescription is false', '/descriptionPrompt');
  if (generate !== true && prompt === undefined) return null;
  if (description !== undefined) throw new DomainError('invalid', 'give a description, or ask for one to be generated (generateDescription, descriptionPrompt), not both', '/description');
  if (prompt !== undefined && prompt.trim() === '') throw new DomainError('invalid', 'descriptionPrompt must not be blank', '/descriptionPrompt');
  return { prompt: prompt ?? null };
};

/**
 * How long refunds can reverse a campaign's earnings unless it says otherwise:
 * a year, longer than any shop's return policy. Written into CampaignCreated,
 * so that a replay decides with the window the campaign had, whatever the
 * default becomes; bounded, so that the rule engine can forget what no refund
 * may reverse any more.
 */
export const DEFAULT_REFUND_DAYS = 365;

const decide = (command: CampaignCommand, state: CampaignState): CampaignEvent[] => {
  if (command.type === 'CreateCampaign') {
    const { campaignId, name, description, currency, budget, startsAt, endsAt, notifications, holdDays = 0, refundDays = DEFAULT_REFUND_DAYS, generateDescription, descriptionPrompt, now } = command.data;
    if (state.status !== 'none') throw new DomainError('conflict', `campaign ${campaignId} already exists`);
    if (!isCurrency(currency)) throw new DomainError('invalid', `${currency} is not an ISO 4217 currency code`, '/currency');
    const budgetMinor = budget === undefined ? null : toMinor(budget, currency, '/budget');
    if (budgetMinor !== null && budgetMinor <= 0) throw new DomainError('invalid', 'budget must be positive', '/budget');
    if (startsAt && endsAt && Date.parse(endsAt) <= Date.parse(startsAt)) throw new DomainError('invalid', 'endsAt must be after startsAt', '/endsAt');
    if (endsAt && Date.parse(endsAt) <= Date.parse(now)) throw new DomainError('invalid', 'endsAt must be in the future', '/endsAt');
    if (!Number.isSafeInteger(holdDays) || holdDays < 0) throw new DomainError('invalid', 'holdDays must be a whole number of days, 0 or more', '/holdDays');
    if (!Number.isSafeInteger(refundDays) || refundDays < 0) throw new DomainError('invalid', 'refundDays must be a whole number of days, 0 or more', '/refundDays');
    if (notifications) validateNotifications(notifications, '/notifications');
    const descriptionRequest = requestedDescription(description, generateDescription, descriptionPrompt);
    const scheduled = startsAt !== undefined && Date.parse(startsAt) > Date.parse(now);
    return [
      {
        type: 'CampaignCreated',
        data: {
          campaignId, name, description: description ?? null, currency, budget: budgetMinor,
          startsAt: startsAt ?? null, endsAt: endsAt ?? null, status: scheduled ? 'scheduled' : 'active', createdAt: now, holdDays, refundDays,
          ...(notifications ? { notifications } : {}),
          ...(descriptionRequest ? { descriptionRequest } : {}),
        },
      },
    ];
  }
  if (state.status === 'none') throw new DomainError('not_found', 'campaign not found');
  const { campaignId } = state;
  switch (command.type) {
    case 'ActivateCampaign':
    case 'PauseCampaign':
    case 'EndCampaign': {
      const transition = TRANSITIONS[command.type];
      if (!(transition.from as readonly CampaignStatus[]).includes(state.status)) {
        throw new DomainError('conflict', `a campaign that is ${state.status} cannot be ${transition.event.replace('Campaign', '').toLowerCase()}`);
      }
      return [{ type: transition.event, data: { campaignId, at: command.data.now, by: command.data.by } }];
    }
    case 'AddRule': {
      if (state.status === 'ended') throw new DomainError('conflict', 'campaign has ended; no rule can be added');
      const { ruleId, name, priority, conditions, reward, beneficiary, limits, now } = command.data;
      const problems = validateConditions(conditions, '/conditions');
      if (problems[0]) throw new DomainError('invalid', problems[0].message, problems[0].pointer);
      return [
        {
          type: 'RuleAdded',
          data: {
            campaignId, ruleId, name, priority, conditions, beneficiary, addedAt: now,
            reward: toReward(reward, state.currency),
            limits: { maxPerBeneficiary: limits?.maxPerBeneficiary ?? null },
          },
        },
      ];
    }
    case 'RecordGeneratedDescription': {
      // Once per campaign: a replay, or a second generator that lost the race, changes nothing.
      if (state.description === 'generated') return [];
      if (state.description !== 'requested') throw new DomainError('conflict', 'this campaign did not ask for a generated description');
      const { text, provider, model, cached, now } = command.data;
      if (text.trim() === '') throw new DomainError('invalid', 'the generated description is blank', '/text');
      return [{ type: 'CampaignDescriptionGenerated', data: { campaignId, text, provider, model, cached, generatedAt: now } }];
    }
    case 'RemoveRule': {
      if (!state.ruleIds.includes(command.data.ruleId)) throw new DomainError('not_found', `rule ${command.data.ruleId} not found in this campaign`);
      if (state.status === 'ended') throw new DomainError('conflict', 'campaign has ended; its rules cannot change');
      return [{ type: 'RuleRemoved', data: { campaignId, ruleId: command.data.ruleId, removedAt: command.data.now } }];
    }
  }
};

const evolve = (state: CampaignState, event: CampaignEvent): CampaignState => {
  if (event.type === 'CampaignCreated') {
    const { campaignId, currency, status, startsAt, endsAt, descriptionRequest } = event.data;
    return { status, campaignId, currency, startsAt, endsAt, ruleIds: [], description: descriptionRequest ? 'requested' : 'given' };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'CampaignActivated':
    case 'CampaignPaused':
    case 'CampaignEnded':
      return { ...state, status: statusAfter(event)! };
    case 'CampaignDescriptionGenerated':
      return { ...state, description: 'generated' };
    case 'RuleAdded':
      return { ...state, ruleIds: [...state.ruleIds, event.data.ruleId] };
    case 'RuleRemoved':
      return { ...state, ruleIds: state.ruleIds.filter((id) => id !== event.data.ruleId) };
  }
};

export const campaignDecider: Decider<CampaignState, CampaignCommand, CampaignEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
