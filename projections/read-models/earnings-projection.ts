import type { Knex } from 'knex';
import { EARNING_EVENT_TYPES } from '../../domain/earning/earning-events.ts';
import type { Projection } from '../projection.ts';
import { writeTogether, type Write } from '../write-together.ts';
import { campaignEarningTotals } from './campaign-earning-totals.ts';
import { earningBatch, type EarlierChange } from './earning-batch.ts';

/**
 * Approvals and reversals of earnings granted in earlier batches, all in one
 * UPDATE … FROM. Reversed in full is final; an approval moves only a pending
 * earning (a reversal in part leaves it pending or approved).
 */
const updateEarlier = (trx: Knex.Transaction, changed: readonly EarlierChange[]): Write =>
  trx.raw(
    `update rm_earnings e
        set status = case when v.reversed_at is not null or e.status = 'reversed' then 'reversed'
                          when v.approved_at is not null then 'approved'
                          else e.status end,
            approved_at = coalesce(v.approved_at, e.approved_at),
            reversed = e.reversed + v.reversed,
            reversed_at = coalesce(v.reversed_at, e.reversed_at)
       from jsonb_to_recordset(?::jsonb) as v(id text, approved_at timestamptz, reversed numeric, reversed_at timestamptz)
      where e.id = v.id`,
    [JSON.stringify(changed)],
  );

/**
 * rm_earnings (one row per earning: what is left of it and where it stands),
 * rm_earning_history (one row per domain event of its stream) and the
 * campaigns' earning totals. A batch is one statement, whatever it holds: its
 * grants are one multi-row insert, with whatever the same batch did to them
 * already folded in; approvals and reversals of earlier earnings are one
 * update; its history one insert; its totals one upsert.
 */
export const earningsProjection: Projection = {
  name: 'earnings',
  eventTypes: EARNING_EVENT_TYPES,
  tables: ['rm_earnings', 'rm_earning_history', 'rm_campaign_earnings'],
  async applyBatch(trx, events) {
    const { inserted, changed, history } = earningBatch(events);
    const writes: Write[] = [];
    if (inserted.length > 0) writes.push(trx('rm_earnings').insert(inserted));
    if (changed.length > 0) writes.push(updateEarlier(trx, changed));
    if (history.length > 0) writes.push(trx('rm_earning_history').insert(history));
    const totals = campaignEarningTotals(trx, events);
    if (totals) writes.push(totals);
    await writeTogether(trx, writes);
  },
};
