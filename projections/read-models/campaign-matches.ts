import type { Knex } from 'knex';
import type { TrackedEventEvent } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { Write } from '../write-together.ts';

/**
 * How many tracked events each campaign matched (rm_campaign_matches): a
 * RuleMatched is one event matched, as a tracked event earns at most once per
 * campaign. One upsert row per campaign the batch touches.
 */
export const campaignMatches = (trx: Knex.Transaction, events: readonly RecordedEvent[]): Write | undefined => {
  const matched = new Map<string, number>();
  for (const recorded of events) {
    const event = asDomainEvent<TrackedEventEvent>(recorded);
    if (event.type === 'RuleMatched') matched.set(event.data.campaignId, (matched.get(event.data.campaignId) ?? 0) + 1);
  }
  if (matched.size === 0) return undefined;
  return trx('rm_campaign_matches')
    .insert([...matched].map(([campaignId, count]) => ({ campaign_id: campaignId, events_matched: count })))
    .onConflict('campaign_id')
    .merge({ events_matched: trx.raw('rm_campaign_matches.events_matched + excluded.events_matched') });
};
