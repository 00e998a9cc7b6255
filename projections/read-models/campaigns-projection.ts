import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { toMajor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { Projection } from '../projection.ts';

/** Campaigns with their rules: `rm_campaigns`, `rm_rules`. */
export const campaignsProjection: Projection = {
  name: 'campaigns',
  eventTypes: ['CampaignCreated', 'RuleAdded'],
  async apply(trx, recorded) {
    const event = asDomainEvent<CampaignEvent>(recorded);
    switch (event.type) {
      case 'CampaignCreated': {
        const { campaignId, name, description, currency, budget, startsAt, endsAt, status, createdAt } = event.data;
        await trx('rm_campaigns').insert({
          id: campaignId, name, description, currency, status,
          budget: budget === null ? null : toMajor(budget, currency),
          starts_at: startsAt, ends_at: endsAt, created_at: createdAt,
          revision: recorded.revision.toString(),
        });
        return;
      }
      case 'RuleAdded': {
        const { campaignId, ruleId, name, priority, conditions, beneficiary, reward, addedAt } = event.data;
        const campaign = await trx('rm_campaigns').where({ id: campaignId }).first<{ currency: string }>('currency');
        await trx('rm_rules').insert({
          id: ruleId, campaign_id: campaignId, name, priority, beneficiary, added_at: addedAt,
          conditions: JSON.stringify(conditions),
          reward: JSON.stringify({ ...reward, amount: toMajor(reward.amount, campaign?.currency ?? 'EUR') }),
        });
        await trx('rm_campaigns').where({ id: campaignId }).update({ revision: recorded.revision.toString() });
        return;
      }
    }
  },
};
