import type { EarningEvent } from '../../domain/earning/earning-events.ts';
import { toMajor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { Projection } from '../projection.ts';

export const earningsProjection: Projection = {
  name: 'earnings',
  eventTypes: ['EarningGranted'],
  async apply(trx, recorded) {
    const event = asDomainEvent<EarningEvent>(recorded);
    const { earningId, eventId, campaignId, ruleId, beneficiaryId, amount, currency, grantedAt } = event.data;
    await trx('rm_earnings').insert({
      id: earningId, event_id: eventId, campaign_id: campaignId, rule_id: ruleId, beneficiary_id: beneficiaryId,
      amount: toMajor(amount, currency), currency, status: 'granted', granted_at: grantedAt,
    });
  },
};
