import type { Knex } from 'knex';
import { toMajor } from '../../domain/money.ts';
import type { Reversal, SkipReason, TrackedEventEvent } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { Projection } from '../projection.ts';
import { writeTogether, type Write } from '../write-together.ts';
import { campaignMatches } from './campaign-matches.ts';

interface EarningView {
  readonly id: string;
  readonly campaignId: string;
  readonly ruleId: string;
  readonly beneficiaryId: string;
  readonly amount: number;
  readonly currency: string;
}

/** One earning a refund took back from, as GET /events/:id shows it: money in major units. */
export interface ReversalView {
  readonly campaignId: string;
  readonly earningId: string;
  readonly beneficiaryId: string;
  readonly amount: number;
  readonly currency: string;
  readonly remaining: number;
}

const reversalView = ({ campaignId, earningId, beneficiaryId, amount, currency, remaining }: Reversal): ReversalView => ({
  campaignId, earningId, beneficiaryId, amount: toMajor(amount, currency), currency, remaining: toMajor(remaining, currency),
});

/** What a batch changes for one tracked event: its whole row when it was registered in the batch, else what is added. */
interface Change {
  registered?: { type: string | null; occurred_at: string; registered_at: string; document: string };
  status: 'pending' | 'processed' | 'skipped';
  ruleIds: string[];
  earnings: EarningView[];
  skipReasons: readonly SkipReason[] | null;
  /** A refund's decision (RefundApplied); null for any other tracked event, and for a refund skipped. */
  refund: { refundOf: string; reversals: ReversalView[] } | null;
  position: string;
}

const changesOf = (events: readonly RecordedEvent[]): Map<string, Change> => {
  const changes = new Map<string, Change>();
  const changeOf = (id: string, position: string): Change => {
    let change = changes.get(id);
    if (!change) changes.set(id, (change = { status: 'pending', ruleIds: [], earnings: [], skipReasons: null, refund: null, position }));
    change.position = position;
    return change;
  };
  for (const recorded of events) {
    const event = asDomainEvent<TrackedEventEvent>(recorded);
    const change = changeOf(event.data.eventId, recorded.position);
    switch (event.type) {
      case 'EventRegistered': {
        const { eventType, occurredAt, document, registeredAt } = event.data;
        change.registered = { type: eventType, occurred_at: occurredAt, registered_at: registeredAt, document: JSON.stringify(document) };
        break;
      }
      case 'RuleMatched': {
        const { earningId, campaignId, ruleId, beneficiaryId, amount, currency } = event.data;
        change.status = 'processed';
        change.ruleIds.push(ruleId);
        change.earnings.push({ id: earningId, campaignId, ruleId, beneficiaryId, amount: toMajor(amount, currency), currency });
        break;
      }
      case 'EventSkipped':
        change.status = 'skipped';
        change.skipReasons = event.data.reasons;
        break;
      case 'RefundApplied':
        // Decided, even with nothing to take back (the share refunded still rounds to what was reversed before).
        change.status = 'processed';
        change.refund = { refundOf: event.data.refundOf, reversals: event.data.reversals.map(reversalView) };
        break;
    }
  }
  return changes;
};

const insertRegistered = (trx: Knex.Transaction, changes: readonly [string, Change][]): Write =>
  trx('rm_tracked_events').insert(
    changes.map(([id, change]) => ({
      id, ...change.registered, status: change.status, matched_rule_ids: change.ruleIds, earnings: JSON.stringify(change.earnings),
      skip_reasons: change.skipReasons === null ? null : JSON.stringify(change.skipReasons),
      refund_of: change.refund?.refundOf ?? null, reversals: change.refund === null ? null : JSON.stringify(change.refund.reversals), position: change.position,
    })),
  );

/** Decisions of events registered in earlier batches: one UPDATE … FROM for all of them. */
const updateDecided = (trx: Knex.Transaction, changes: readonly [string, Change][]): Write => {
  const values = changes.map(([id, change]) => ({
    id, status: change.status, rule_ids: change.ruleIds, earnings: change.earnings, skip_reasons: change.skipReasons,
    refund_of: change.refund?.refundOf ?? null, reversals: change.refund?.reversals ?? null, position: change.position,
  }));
  return trx.raw(
    `update rm_tracked_events t
        set status = v.status,
            matched_rule_ids = t.matched_rule_ids || v.rule_ids,
            earnings = t.earnings || v.earnings,
            skip_reasons = coalesce(v.skip_reasons, t.skip_reasons),
            refund_of = coalesce(v.refund_of, t.refund_of),
            reversals = coalesce(v.reversals, t.reversals),
            position = v.position
       from jsonb_to_recordset(?::jsonb) as v(id text, status text, rule_ids text[], earnings jsonb, skip_reasons jsonb, refund_of text, reversals jsonb, position text)
      where t.id = v.id`,
    [JSON.stringify(values)],
  );
};

/**
 * One row per tracked event: its status, the rules it matched, what it earned
 * or why it was skipped, and for a refund what it took back; and how many
 * tracked events each campaign matched. A batch is one statement (its new
 * rows, its decisions of earlier rows and its match counts, together).
 */
export const trackedEventsProjection: Projection = {
  name: 'tracked-events',
  eventTypes: ['EventRegistered', 'RuleMatched', 'EventSkipped', 'RefundApplied'],
  tables: ['rm_tracked_events', 'rm_campaign_matches'],
  async applyBatch(trx, events) {
    const changes = [...changesOf(events)];
    const registered = changes.filter(([, change]) => change.registered);
    const decided = changes.filter(([, change]) => !change.registered);
    const writes: Write[] = [];
    if (registered.length > 0) writes.push(insertRegistered(trx, registered));
    if (decided.length > 0) writes.push(updateDecided(trx, decided));
    const matches = campaignMatches(trx, events);
    if (matches) writes.push(matches);
    await writeTogether(trx, writes);
  },
};
