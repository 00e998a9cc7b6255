import type { Knex } from 'knex';
import { toMajor } from '../../domain/money.ts';
import type { SkipReason, TrackedEventEvent } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { Projection } from '../projection.ts';

interface EarningView {
  readonly id: string;
  readonly campaignId: string;
  readonly ruleId: string;
  readonly beneficiaryId: string;
  readonly amount: number;
  readonly currency: string;
}

/** What a batch changes for one tracked event: its whole row when it was registered in the batch, else what is added. */
interface Change {
  registered?: { type: string | null; occurred_at: string; registered_at: string; document: string };
  status: 'pending' | 'processed' | 'skipped';
  ruleIds: string[];
  earnings: EarningView[];
  skipReasons: readonly SkipReason[] | null;
  position: string;
}

const changesOf = (events: readonly RecordedEvent[]): Map<string, Change> => {
  const changes = new Map<string, Change>();
  const changeOf = (id: string, position: string): Change => {
    let change = changes.get(id);
    if (!change) changes.set(id, (change = { status: 'pending', ruleIds: [], earnings: [], skipReasons: null, position }));
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
    }
  }
  return changes;
};

const insertRegistered = async (trx: Knex.Transaction, changes: readonly [string, Change][]): Promise<void> => {
  if (changes.length === 0) return;
  await trx('rm_tracked_events').insert(
    changes.map(([id, change]) => ({
      id, ...change.registered, status: change.status, matched_rule_ids: change.ruleIds, earnings: JSON.stringify(change.earnings),
      skip_reasons: change.skipReasons === null ? null : JSON.stringify(change.skipReasons), position: change.position,
    })),
  );
};

/** Decisions of events registered in earlier batches: one UPDATE … FROM for all of them. */
const updateDecided = async (trx: Knex.Transaction, changes: readonly [string, Change][]): Promise<void> => {
  if (changes.length === 0) return;
  const values = changes.map(([id, change]) => ({ id, status: change.status, rule_ids: change.ruleIds, earnings: change.earnings, skip_reasons: change.skipReasons, position: change.position }));
  await trx.raw(
    `update rm_tracked_events t
        set status = v.status,
            matched_rule_ids = t.matched_rule_ids || v.rule_ids,
            earnings = t.earnings || v.earnings,
            skip_reasons = coalesce(v.skip_reasons, t.skip_reasons),
            position = v.position
       from jsonb_to_recordset(?::jsonb) as v(id text, status text, rule_ids text[], earnings jsonb, skip_reasons jsonb, position text)
      where t.id = v.id`,
    [JSON.stringify(values)],
  );
};

/** One row per tracked event: its status, the rules it matched, what it earned or why it was skipped. */
export const trackedEventsProjection: Projection = {
  name: 'tracked-events',
  eventTypes: ['EventRegistered', 'RuleMatched', 'EventSkipped'],
  async applyBatch(trx, events) {
    const changes = [...changesOf(events)];
    await insertRegistered(trx, changes.filter(([, change]) => change.registered));
    await updateDecided(trx, changes.filter(([, change]) => !change.registered));
  },
};
