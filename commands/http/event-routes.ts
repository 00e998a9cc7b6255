import { Router } from 'express';
import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import { trackedEventStream } from '../../domain/tracked-event/tracked-event-events.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import { handleCommand } from '../command-handler.ts';
import type { CommandContext } from './command-context.ts';
import { trackEventSchema, type TrackEventBody } from './request-schemas.ts';

const validateTrackEvent = bodyValidator<TrackEventBody>(trackEventSchema);

const registeredPosition = async (store: EventStore, eventId: string): Promise<string | null> => {
  for await (const first of store.readStream(trackedEventStream(eventId), { maxCount: 1 })) return first.position;
  return null;
};

export const eventRoutes = ({ store, clock, newId, actor }: CommandContext): Router => {
  const router = Router();

  router.post('/events', async (req, res) => {
    const { id, ...document } = validateTrackEvent(req.body);
    const eventId = typeof id === 'string' ? id : newId();
    const now = clock().toISOString();
    const result = await handleCommand(
      store,
      trackedEventStream(eventId),
      trackedEventDecider,
      {
        type: 'RegisterEvent',
        data: {
          eventId,
          eventType: typeof document.type === 'string' ? document.type : null,
          occurredAt: typeof document.occurredAt === 'string' ? document.occurredAt : now,
          document,
          now,
        },
      },
      { metadata: { actor: actor(req) } },
    );
    // A repeated report gets the first answer again, position of EventRegistered included.
    const position = result.events.length > 0 ? result.position : await registeredPosition(store, eventId);
    res.status(202).json({ id: eventId, status: 'pending', position });
  });

  return router;
};
