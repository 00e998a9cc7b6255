import type { JsonObject } from '../../domain/json.ts';
import { upcast } from '../../domain/upcast.ts';
import type { EventToAppend, EventMetadata, RecordedEvent } from './event-store.ts';

/** The shape every domain event union shares: `{ type, data }`. */
export interface DomainEventShape {
  readonly type: string;
  readonly data: object;
}

/**
 * The one place a recorded event is read as a domain event. Domain events are
 * written only through `toEventToAppend`, from the same types, and older shapes
 * are upcast here, so the cast holds.
 */
export const asDomainEvent = <Event extends DomainEventShape>(recorded: RecordedEvent): Event =>
  ({ type: recorded.type, data: upcast(recorded.type, recorded.data) }) as unknown as Event;

export const toEventToAppend = (event: DomainEventShape, metadata: EventMetadata = {}): EventToAppend => ({
  type: event.type,
  data: event.data as JsonObject,
  metadata: { schemaVersion: 1, ...metadata },
});
