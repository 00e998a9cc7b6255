import type { Knex } from 'knex';
import type { RecordedEvent } from '../infrastructure/event-store/event-store.ts';

/**
 * A read model: which domain events it needs, and how each becomes SQL.
 * `apply` runs inside the projector's transaction, which also moves the
 * projection's checkpoint, so an event is applied exactly once.
 */
export interface Projection {
  readonly name: string;
  readonly eventTypes: readonly string[];
  apply(trx: Knex.Transaction, event: RecordedEvent): Promise<void>;
}
