import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import { trackedEventStream } from '../../domain/tracked-event/tracked-event-events.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { utcDateTime } from '../../infrastructure/http/date-time.ts';
import { handleCommand } from '../command-handler.ts';
import type { TrackEventBody } from './request-schemas.ts';

export interface Registered {
  readonly id: string;
  readonly status: 'pending';
  readonly position: string | null;
}

const registeredPosition = async (store: EventStore, eventId: string): Promise<string | null> => {
  for await (const first of store.readStream(trackedEventStream(eventId), { maxCount: 1 })) return first.position;
  return null;
};

/** POST /events for one validated body: idempotent on the client's id. */
export const registerTrackedEvent = async (
  { store, now, newId, actor }: { store: EventStore; now: string; newId: () => string; actor: string },
  body: TrackEventBody,
): Promise<Registered> => {
  // As stored: JSON has no -0, no Infinity; a retry must compare equal to what the log holds.
  const { id, ...document } = JSON.parse(JSON.stringify(body)) as TrackEventBody;
  const eventId = typeof id === 'string' ? id : newId();
  const result = await handleCommand(
    store,
    trackedEventStream(eventId),
    trackedEventDecider,
    {
      type: 'RegisterEvent',
      data: {
        eventId,
        eventType: typeof document.type === 'string' ? document.type : null,
        // In UTC for the read models; the document keeps the client's text, which is what rules match and retries compare.
        occurredAt: typeof document.occurredAt === 'string' ? utcDateTime(document.occurredAt) : now,
        document,
        now,
      },
    },
    { metadata: { actor } },
  );
  // A repeated report gets the first answer again, position of EventRegistered included.
  const position = result.events.length > 0 ? result.position : await registeredPosition(store, eventId);
  return { id: eventId, status: 'pending', position };
};
