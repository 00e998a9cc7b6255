import { trackedEventStream } from '../domain/tracked-event/tracked-event-events.ts';
import type { EventStore } from '../infrastructure/event-store/event-store.ts';

/** Where a tracked event was registered (null: it is not): its stream's first event. */
export const registeredPosition = async (store: EventStore, eventId: string): Promise<string | null> => {
  for await (const first of store.readStream(trackedEventStream(eventId), { maxCount: 1 })) return first.position;
  return null;
};
