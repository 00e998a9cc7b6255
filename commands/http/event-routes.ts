import { Router } from 'express';
import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import { trackedEventStream } from '../../domain/tracked-event/tracked-event-events.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import { handleCommand } from '../command-handler.ts';
import type { CommandContext } from './command-context.ts';
import { trackEventSchema, type TrackEventBody } from './request-schemas.ts';

const validateTrackEvent = bodyValidator<TrackEventBody>(trackEventSchema);

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
    res.status(202).json({ id: eventId, status: 'pending', position: result.position });
  });

  return router;
};
