import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import { isCurrency, toMinor } from '../money.ts';
import { validateConditions, type Conditions } from '../rules/conditions.ts';
import type { CampaignEvent, CampaignStatus } from './campaign-events.ts';

export type CampaignState =
  | { readonly status: 'none' }
  | { readonly status: CampaignStatus; readonly campaignId: string; readonly currency: string; readonly ruleIds: readonly string[] };

export type CampaignCommand =
  | {
      readonly type: 'CreateCampaign';
      readonly data: {
        readonly campaignId: string;
        readonly name: string;
        readonly description?: string;
        readonly currency: string;
        /** Major units of `currency`, as the HTTP contract has it. */
        readonly budget?: number;
        readonly startsAt?: string;
        readonly endsAt?: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'AddRule';
      readonly data: {
        readonly ruleId: string;
        readonly name: string;
        readonly priority: number;
        readonly conditions: Conditions;
        /** Major units of the campaign currency. */
        readonly reward: { readonly type: 'fixed'; readonly amount: number };
        readonly beneficiary: string;
        readonly now: string;
      };
    };

const decide = (command: CampaignCommand, state: CampaignState): CampaignEvent[] => {
  switch (command.type) {
    case 'CreateCampaign': {
      const { campaignId, name, description, currency, budget, startsAt, endsAt, now } = command.data;
      if (state.status !== 'none') throw new DomainError('conflict', `campaign ${campaignId} already exists`);
      if (!isCurrency(currency)) throw new DomainError('invalid', `${currency} is not an ISO 4217 currency code`, '/currency');
      const budgetMinor = budget === undefined ? null : toMinor(budget, currency, '/budget');
      if (budgetMinor !== null && budgetMinor <= 0) throw new DomainError('invalid', 'budget must be positive', '/budget');
      if (startsAt && endsAt && Date.parse(endsAt) <= Date.parse(startsAt)) {
        throw new DomainError('invalid', 'endsAt must be after startsAt', '/endsAt');
      }
      if (endsAt && Date.parse(endsAt) <= Date.parse(now)) throw new DomainError('invalid', 'endsAt must be in the future', '/endsAt');
      const scheduled = startsAt !== undefined && Date.parse(startsAt) > Date.parse(now);
      return [
        {
          type: 'CampaignCreated',
          data: {
            campaignId,
            name,
            description: description ?? null,
            currency,
            budget: budgetMinor,
            startsAt: startsAt ?? null,
            endsAt: endsAt ?? null,
            status: scheduled ? 'scheduled' : 'active',
            createdAt: now,
          },
        },
      ];
    }
    case 'AddRule': {
      if (state.status === 'none') throw new DomainError('not_found', 'campaign not found');
      if (state.status === 'ended') throw new DomainError('conflict', 'campaign has ended; no rule can be added');
      const { ruleId, name, priority, conditions, reward, beneficiary, now } = command.data;
      const problems = validateConditions(conditions, '/conditions');
      if (problems[0]) throw new DomainError('invalid', problems[0].message, problems[0].pointer);
      const amount = toMinor(reward.amount, state.currency, '/reward/amount');
      if (amount <= 0) throw new DomainError('invalid', 'reward amount must be positive', '/reward/amount');
      return [
        {
          type: 'RuleAdded',
          data: { campaignId: state.campaignId, ruleId, name, priority, conditions, reward: { type: 'fixed', amount }, beneficiary, addedAt: now },
        },
      ];
    }
  }
};

const evolve = (state: CampaignState, event: CampaignEvent): CampaignState => {
  switch (event.type) {
    case 'CampaignCreated':
      return { status: event.data.status, campaignId: event.data.campaignId, currency: event.data.currency, ruleIds: [] };
    case 'RuleAdded':
      return state.status === 'none' ? state : { ...state, ruleIds: [...state.ruleIds, event.data.ruleId] };
  }
};

export const campaignDecider: Decider<CampaignState, CampaignCommand, CampaignEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
