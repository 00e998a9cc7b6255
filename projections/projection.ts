import type { Knex } from 'knex';
import type { RecordedEvent } from '../infrastructure/event-store/event-store.ts';

/**
 * A read model: which domain events it needs, and how a batch of them (in log
 * order) becomes SQL. `applyBatch` runs inside the projector's transaction,
 * which also moves the projection's checkpoint, so an event is applied exactly
 * once. Busy read models write a batch with a few set-based statements.
 */
export interface Projection {
  readonly name: string;
  readonly eventTypes: readonly string[];
  /** The tables it writes, and only it: what a rebuild builds afresh and swaps in (it reads none but these). */
  readonly tables: readonly string[];
  applyBatch(trx: Knex.Transaction, events: readonly RecordedEvent[]): Promise<void>;
}

/** For read models that change rarely: one event at a time. */
export const oneByOne =
  (apply: (trx: Knex.Transaction, event: RecordedEvent) => Promise<void>): Projection['applyBatch'] =>
  async (trx, events) => {
    for (const event of events) await apply(trx, event);
  };
