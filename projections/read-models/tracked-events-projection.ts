import { toMajor } from '../../domain/money.ts';
import type { TrackedEventEvent } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { Projection } from '../projection.ts';

/** One row per tracked event: its status, the rules it matched, what it earned or why it was skipped. */
export const trackedEventsProjection: Projection = {
  name: 'tracked-events',
  eventTypes: ['EventRegistered', 'RuleMatched', 'EventSkipped'],
  async apply(trx, recorded) {
    const event = asDomainEvent<TrackedEventEvent>(recorded);
    switch (event.type) {
      case 'EventRegistered': {
        const { eventId, eventType, occurredAt, document, registeredAt } = event.data;
        await trx('rm_tracked_events').insert({
          id: eventId, type: eventType, occurred_at: occurredAt, registered_at: registeredAt,
          document: JSON.stringify(document), status: 'pending', position: recorded.position,
        });
        return;
      }
      case 'RuleMatched': {
        const { eventId, ruleId, earningId, campaignId, beneficiaryId, amount, currency } = event.data;
        const earning = { id: earningId, campaignId, ruleId, beneficiaryId, amount: toMajor(amount, currency), currency };
        await trx('rm_tracked_events')
          .where({ id: eventId })
          .update({
            status: 'processed',
            matched_rule_ids: trx.raw('array_append(matched_rule_ids, ?)', [ruleId]),
            earnings: trx.raw('earnings || ?::jsonb', [JSON.stringify([earning])]),
            position: recorded.position,
          });
        return;
      }
      case 'EventSkipped':
        await trx('rm_tracked_events')
          .where({ id: event.data.eventId })
          .update({ status: 'skipped', skip_reasons: JSON.stringify(event.data.reasons), position: recorded.position });
        return;
    }
  },
};
