import type { Knex } from 'knex';
import type { EarningEvent } from '../../domain/earning/earning-events.ts';
import { toMajor, type Minor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { Write } from '../write-together.ts';

interface Totals {
  earnings: number;
  granted: Minor;
  reversed: Minor;
  currency: string;
}

/**
 * What a batch adds to each campaign's earnings, granted and reversed
 * (rm_campaign_earnings): one upsert row per campaign the batch touches, so a
 * busy campaign costs one row a batch, not one statement an earning. Summed
 * in minor units; an earning's currency is its campaign's.
 */
export const campaignEarningTotals = (trx: Knex.Transaction, events: readonly RecordedEvent[]): Write | undefined => {
  const totals = new Map<string, Totals>();
  for (const recorded of events) {
    const event = asDomainEvent<EarningEvent>(recorded);
    if (event.type === 'EarningApproved') continue;
    const { campaignId, amount, currency } = event.data;
    let campaign = totals.get(campaignId);
    if (!campaign) totals.set(campaignId, (campaign = { earnings: 0, granted: 0, reversed: 0, currency }));
    if (event.type === 'EarningGranted') {
      campaign.earnings += 1;
      campaign.granted += amount;
    } else campaign.reversed += amount;
  }
  if (totals.size === 0) return undefined;
  const rows = [...totals].map(([campaignId, { earnings, granted, reversed, currency }]) => ({
    campaign_id: campaignId, earnings, granted: toMajor(granted, currency), reversed: toMajor(reversed, currency),
  }));
  return trx('rm_campaign_earnings')
    .insert(rows)
    .onConflict('campaign_id')
    .merge({
      earnings: trx.raw('rm_campaign_earnings.earnings + excluded.earnings'),
      granted: trx.raw('rm_campaign_earnings.granted + excluded.granted'),
      reversed: trx.raw('rm_campaign_earnings.reversed + excluded.reversed'),
    });
};
