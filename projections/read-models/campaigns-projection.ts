import { CAMPAIGN_EVENT_TYPES, statusAfter, type CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { toMajor } from '../../domain/money.ts';
import { rewardView, withoutSecret } from './campaign-as-of.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import { oneByOne, type Projection } from '../projection.ts';


/** Campaigns with the rules in force: `rm_campaigns`, `rm_rules`. */
export const campaignsProjection: Projection = {
  name: 'campaigns',
  eventTypes: CAMPAIGN_EVENT_TYPES,
  tables: ['rm_campaigns', 'rm_rules'],
  applyBatch: oneByOne(async (trx, recorded) => {
    const event = asDomainEvent<CampaignEvent>(recorded);
    const revision = recorded.revision.toString();
    switch (event.type) {
      case 'CampaignCreated': {
        const { campaignId, name, description, currency, budget, startsAt, endsAt, status, createdAt, notifications, descriptionRequest, holdDays = 0, refundDays = null } = event.data;
        await trx('rm_campaigns').insert({
          // Campaigns created before refunds have no refundDays: no limit, null.
          id: campaignId, name, description, currency, status, hold_days: holdDays, refund_days: refundDays,
          budget: budget === null ? null : toMajor(budget, currency),
          starts_at: startsAt, ends_at: endsAt, created_at: createdAt, revision,
          description_status: descriptionRequest ? 'pending' : null,
          description_prompt: descriptionRequest?.prompt ?? null,
          notifications: notifications ? JSON.stringify(withoutSecret(notifications)) : null,
        });
        return;
      }
      case 'CampaignDescriptionGenerated': {
        const { campaignId, text, provider, model, cached, generatedAt } = event.data;
        await trx('rm_campaigns').where({ id: campaignId }).update({
          description: text, description_status: 'generated', description_provider: provider, description_model: model,
          description_cached: cached, description_generated_at: generatedAt, revision,
        });
        return;
      }
      case 'CampaignActivated':
      case 'CampaignPaused':
      case 'CampaignEnded':
        await trx('rm_campaigns').where({ id: event.data.campaignId }).update({ status: statusAfter(event), revision });
        return;
      case 'RuleAdded': {
        const { campaignId, ruleId, name, priority, conditions, beneficiary, reward, limits, addedAt } = event.data;
        const campaign = await trx('rm_campaigns').where({ id: campaignId }).first<{ currency: string }>('currency');
        await trx('rm_rules').insert({
          id: ruleId, campaign_id: campaignId, name, priority, beneficiary, added_at: addedAt,
          conditions: JSON.stringify(conditions),
          reward: JSON.stringify(rewardView(reward, campaign?.currency ?? 'EUR')),
          limits: JSON.stringify(limits),
        });
        await trx('rm_campaigns').where({ id: campaignId }).update({ revision });
        return;
      }
      case 'RuleRemoved':
        await trx('rm_rules').where({ id: event.data.ruleId }).delete();
        await trx('rm_campaigns').where({ id: event.data.campaignId }).update({ revision });
        return;
    }
  }),
};
