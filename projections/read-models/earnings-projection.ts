import type { EarningEvent } from '../../domain/earning/earning-events.ts';
import { toMajor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { Projection } from '../projection.ts';

/** One row per earning: a batch is one multi-row insert. */
export const earningsProjection: Projection = {
  name: 'earnings',
  eventTypes: ['EarningGranted'],
  async applyBatch(trx, events) {
    const rows = events.map((recorded) => {
      const { data } = asDomainEvent<EarningEvent>(recorded);
      return {
        id: data.earningId, event_id: data.eventId, campaign_id: data.campaignId, rule_id: data.ruleId, beneficiary_id: data.beneficiaryId,
        amount: toMajor(data.amount, data.currency), currency: data.currency, status: 'granted', granted_at: data.grantedAt,
      };
    });
    if (rows.length > 0) await trx('rm_earnings').insert(rows);
  },
};
