import { fold, type Decider } from '../domain/decider.ts';
import { asDomainEvent, toEventToAppend, type DomainEventShape } from '../infrastructure/event-store/domain-event.ts';
import {
  ConcurrencyError,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
} from '../infrastructure/event-store/event-store.ts';

export interface HandledCommand<Event> {
  /** What this command appended; empty when the decider decided nothing needs to change. */
  readonly events: readonly Event[];
  /** The stream's revision after the command (null: the stream still does not exist). */
  readonly revision: bigint | null;
  /** Position of the stream's last event, for read-your-writes. */
  readonly position: string | null;
}

export interface HandleOptions {
  /** The revision the client last saw (If-Match). Absent: the command retries on a concurrent write. */
  readonly expectedRevision?: bigint;
  readonly metadata?: EventMetadata;
  readonly retries?: number;
}

export const readDomainEvents = async <Event extends DomainEventShape>(store: EventStore, streamId: string) => {
  const events: Event[] = [];
  let last: RecordedEvent | undefined;
  for await (const recorded of store.readStream(streamId)) {
    events.push(asDomainEvent<Event>(recorded));
    last = recorded;
  }
  return { events, last };
};

/**
 * Load, decide, append, guarded by the revision that was read. A concurrent
 * writer makes the append fail; without an If-Match the whole cycle runs again.
 */
export const handleCommand = async <State, Command, Event extends DomainEventShape>(
  store: EventStore,
  streamId: string,
  decider: Decider<State, Command, Event>,
  command: Command,
  { expectedRevision, metadata, retries = 3 }: HandleOptions = {},
): Promise<HandledCommand<Event>> => {
  for (let attempt = 0; ; attempt++) {
    const { events: past, last } = await readDomainEvents<Event>(store, streamId);
    const actual = last?.revision ?? null;
    if (expectedRevision !== undefined && expectedRevision !== actual) {
      throw new ConcurrencyError(streamId, expectedRevision, actual ?? 'no_stream');
    }
    const state = fold(decider, past);
    const events = decider.decide(command, state);
    if (events.length === 0) return { events, revision: actual, position: last?.position ?? null };
    const guard: ExpectedRevision = actual ?? 'no_stream';
    try {
      const result = await store.appendToStream(
        streamId,
        events.map((event) => toEventToAppend(event, metadata)),
        { expectedRevision: guard },
      );
      return { events, revision: result.nextRevision, position: result.position };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || expectedRevision !== undefined || attempt >= retries) throw error;
    }
  }
};
