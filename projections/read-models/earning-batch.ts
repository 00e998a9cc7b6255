import type { EarningEvent, EarningGranted } from '../../domain/earning/earning-events.ts';
import { approvedOnGrant, approvesAtOf } from '../../domain/earning/hold.ts';
import { toMajor, type Minor } from '../../domain/money.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { EarningStatus } from './earning-status.ts';

/** A row of rm_earnings; money in major units, as the read model keeps it. */
export interface EarningRow {
  id: string; event_id: string; campaign_id: string; rule_id: string; beneficiary_id: string;
  amount: number; currency: string; status: EarningStatus; granted_at: string; approves_at: string; approved_at: string | null;
  reversed: number; reversed_at: string | null;
}

/** What a batch changes of an earning granted in an earlier batch. */
export interface EarlierChange {
  id: string;
  approved_at: string | null;
  /** Taken back in this batch, major units: added to what the row has. */
  reversed: number;
  /** Set when this batch reversed what was left of it. */
  reversed_at: string | null;
}

/** A row of rm_earning_history: one per domain event of the earning's stream, in its order. */
export interface HistoryRow {
  earning_id: string; revision: string; kind: 'granted' | 'approved' | 'reversed';
  amount: number | null; remaining: number | null; reason: string | null; refund_event_id: string | null; at: string;
}

/** An earning as the batch leaves it, kept in minor units until written, so that reversals add up exactly. */
interface Touched {
  readonly grant: EarningGranted['data'] | null;
  readonly id: string;
  /** Known from the grant or a reversal; null for an earlier earning that this batch only approves. */
  currency: string | null;
  approvedAt: string | null;
  reversed: Minor;
  reversedAt: string | null;
}

export interface EarningBatch {
  /** Granted in this batch: one multi-row insert, with whatever else the batch did to them. */
  readonly inserted: EarningRow[];
  /** Granted before: one set-based update. */
  readonly changed: EarlierChange[];
  readonly history: HistoryRow[];
}

const statusOf = (touched: Touched): EarningStatus =>
  touched.reversedAt !== null ? 'reversed' : touched.approvedAt !== null ? 'approved' : 'pending';

/** Folds a batch of earning domain events, in log order, into the rows it writes. */
export const earningBatch = (events: readonly RecordedEvent[]): EarningBatch => {
  const earnings = new Map<string, Touched>();
  const history: HistoryRow[] = [];
  const touchedOf = (id: string): Touched => {
    let touched = earnings.get(id);
    if (!touched) earnings.set(id, (touched = { grant: null, id, currency: null, approvedAt: null, reversed: 0, reversedAt: null }));
    return touched;
  };
  for (const recorded of events) {
    const event = asDomainEvent<EarningEvent>(recorded);
    const revision = recorded.revision.toString();
    const entry = { earning_id: event.data.earningId, revision, amount: null, remaining: null, reason: null, refund_event_id: null };
    switch (event.type) {
      case 'EarningGranted': {
        const { data } = event;
        earnings.set(data.earningId, { grant: data, id: data.earningId, currency: data.currency, approvedAt: approvedOnGrant(data) ? data.grantedAt : null, reversed: 0, reversedAt: null });
        history.push({ ...entry, kind: 'granted', amount: toMajor(data.amount, data.currency), at: data.grantedAt });
        break;
      }
      case 'EarningApproved': {
        const touched = touchedOf(event.data.earningId);
        // Reversed in full, it stays so: the approval is history only (the decider writes none then; older logs might).
        touched.approvedAt = event.data.approvedAt;
        history.push({ ...entry, kind: 'approved', at: event.data.approvedAt });
        break;
      }
      case 'EarningReversed': {
        const { amount, currency, remaining, reason, refundEventId, reversedAt } = event.data;
        const touched = touchedOf(event.data.earningId);
        touched.currency = currency;
        touched.reversed += amount;
        if (remaining <= 0) touched.reversedAt = reversedAt;
        history.push({
          ...entry, kind: 'reversed', amount: toMajor(amount, currency), remaining: toMajor(remaining, currency), reason, refund_event_id: refundEventId, at: reversedAt,
        });
        break;
      }
    }
  }
  const inserted: EarningRow[] = [];
  const changed: EarlierChange[] = [];
  for (const touched of earnings.values()) {
    const { grant } = touched;
    if (grant === null) {
      changed.push({ id: touched.id, approved_at: touched.approvedAt, reversed: touched.currency === null ? 0 : toMajor(touched.reversed, touched.currency), reversed_at: touched.reversedAt });
      continue;
    }
    inserted.push({
      id: grant.earningId, event_id: grant.eventId, campaign_id: grant.campaignId, rule_id: grant.ruleId, beneficiary_id: grant.beneficiaryId,
      amount: toMajor(grant.amount, grant.currency), currency: grant.currency, status: statusOf(touched),
      granted_at: grant.grantedAt, approves_at: approvesAtOf(grant), approved_at: touched.approvedAt,
      reversed: toMajor(touched.reversed, grant.currency), reversed_at: touched.reversedAt,
    });
  }
  return { inserted, changed, history };
};
