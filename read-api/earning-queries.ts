import type { Knex } from 'knex';
import type { EarningStatus } from '../projections/read-models/earning-status.ts';

/** An earning as the query API shows it: money in the currency's major unit. */
export interface EarningView {
  id: string;
  eventId: string;
  campaignId: string;
  ruleId: string;
  beneficiaryId: string;
  /** As granted; refunds never change it, they add to `reversed`. */
  amount: number;
  currency: string;
  status: EarningStatus;
  /** Taken back by refunds so far. */
  reversed: number;
  /** amount − reversed: what the earning is still worth. */
  remaining: number;
  grantedAt: string;
  /** When the hold ends; grantedAt for a campaign that holds nothing. */
  approvesAt: string;
  approvedAt: string | null;
  /** When it was reversed in full; null while anything remains. */
  reversedAt: string | null;
}

/** One domain event of the earning's stream, in stream order (`revision`, as in GET /streams/earning-{id}). */
export type EarningHistoryEntry =
  | { revision: string; kind: 'granted'; amount: number; at: string }
  | { revision: string; kind: 'approved'; at: string }
  | { revision: string; kind: 'reversed'; amount: number; remaining: number; reason: string; refundEventId: string; at: string };

/** One currency's earnings of a beneficiary, in its major unit. */
export interface BalanceView {
  currency: string;
  /** What remains of pending earnings. */
  pending: number;
  /** What remains of approved earnings. */
  approved: number;
  /** Taken back by refunds, from earnings of any status. */
  reversed: number;
  /** What the beneficiary may spend or be paid: the approved remainder (reversals are out of it already). */
  available: number;
}

interface EarningRow {
  id: string; event_id: string; campaign_id: string; rule_id: string; beneficiary_id: string; amount: string; currency: string; status: EarningStatus;
  reversed: string; remaining: string; granted_at: Date; approves_at: Date; approved_at: Date | null; reversed_at: Date | null;
}

interface HistoryRow {
  revision: string; kind: EarningHistoryEntry['kind']; amount: string | null; remaining: string | null; reason: string | null; refund_event_id: string | null; at: Date;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const toView = (row: EarningRow): EarningView => ({
  id: row.id, eventId: row.event_id, campaignId: row.campaign_id, ruleId: row.rule_id, beneficiaryId: row.beneficiary_id,
  amount: Number(row.amount), currency: row.currency, status: row.status, reversed: Number(row.reversed), remaining: Number(row.remaining),
  grantedAt: row.granted_at.toISOString(), approvesAt: row.approves_at.toISOString(), approvedAt: iso(row.approved_at), reversedAt: iso(row.reversed_at),
});

const toEntry = (row: HistoryRow): EarningHistoryEntry => {
  const { revision, at } = row;
  switch (row.kind) {
    case 'granted':
      return { revision, kind: 'granted', amount: Number(row.amount), at: at.toISOString() };
    case 'approved':
      return { revision, kind: 'approved', at: at.toISOString() };
    case 'reversed':
      return { revision, kind: 'reversed', amount: Number(row.amount), remaining: Number(row.remaining), reason: row.reason ?? '', refundEventId: row.refund_event_id ?? '', at: at.toISOString() };
  }
};

/** GET /earnings, GET /earnings/:id and GET /beneficiaries/:id/balance, from rm_earnings and rm_earning_history. */
export const createEarningQueries = (knex: Knex) => {
  // Remaining is derived, exact in SQL decimals: the read model keeps the grant and the sum of its reversals.
  const earningRows = () => knex('rm_earnings').select<EarningRow[]>('*', knex.raw('(amount - reversed)::text as remaining'));
  return {
    async earnings(filter: { beneficiaryId?: string; campaignId?: string; status?: EarningStatus }, limit: number, offset: number): Promise<EarningView[]> {
      const query = earningRows().orderBy([{ column: 'granted_at', order: 'desc' }, { column: 'id' }]).limit(limit).offset(offset);
      if (filter.beneficiaryId !== undefined) query.where({ beneficiary_id: filter.beneficiaryId });
      if (filter.campaignId !== undefined) query.where({ campaign_id: filter.campaignId });
      if (filter.status !== undefined) query.where({ status: filter.status });
      return (await query).map(toView);
    },

    async earning(id: string): Promise<(EarningView & { history: EarningHistoryEntry[] }) | undefined> {
      const [row] = await earningRows().where({ id });
      if (!row) return undefined;
      const history = await knex('rm_earning_history')
        .where({ earning_id: id })
        .orderBy('revision')
        .select<HistoryRow[]>(knex.raw('revision::text as revision'), 'kind', 'amount', 'remaining', 'reason', 'refund_event_id', 'at');
      return { ...toView(row), history: history.map(toEntry) };
    },

    /** Summed in SQL over the exact decimals the read model keeps, so no float drift adds up across earnings. */
    async balance(beneficiaryId: string): Promise<BalanceView[]> {
      const rows: { currency: string; pending: string; approved: string; reversed: string }[] = await knex('rm_earnings')
        .where({ beneficiary_id: beneficiaryId })
        .groupBy('currency')
        .orderBy('currency')
        .select(
          'currency',
          knex.raw(`coalesce(sum(amount - reversed) filter (where status = 'pending'), 0)::text as pending`),
          knex.raw(`coalesce(sum(amount - reversed) filter (where status = 'approved'), 0)::text as approved`),
          knex.raw(`sum(reversed)::text as reversed`),
        );
      return rows.map((row) => {
        const approved = Number(row.approved);
        return { currency: row.currency, pending: Number(row.pending), approved, reversed: Number(row.reversed), available: approved };
      });
    },
  };
};
