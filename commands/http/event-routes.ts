import { Router } from 'express';
import type { JsonObject } from '../../domain/json.ts';
import { toMajor } from '../../domain/money.ts';
import { REFUND_TYPE } from '../../domain/tracked-event/tracked-event-events.ts';
import { Problem, problemBody, toProblem } from '../../infrastructure/http/problem.ts';
import { minPositionParam } from '../../infrastructure/http/min-position.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import type { CommandContext } from './command-context.ts';
import { registerTrackedEvent, registerTrackedEvents } from './register-tracked-event.ts';
import { trackEventBatchSchema, trackEventSchema, type TrackEventBatchBody, type TrackEventBody } from './request-schemas.ts';

const validateTrackEvent = bodyValidator<TrackEventBody>(trackEventSchema);
// Items are walked one by one by validateTrackEvent, so that one bad item is that item's 400.
const validateBatch = bodyValidator<TrackEventBatchBody>(trackEventBatchSchema, { opaque: '/events' });


export const eventRoutes = ({ store, clock, newId, actor, ruleBook, logger }: CommandContext): Router => {
  const router = Router();
  const failed = (error: unknown, index: number) => {
    const problem = itemProblem(error, index);
    if (problem.status >= 500) logger.error({ err: error, index }, 'a batch item failed');
    return { index, status: problem.status, problem };
  };

  router.post('/events', async (req, res) => {
    const body = validateTrackEvent(req.body);
    res.status(202).json(await registerTrackedEvent({ store, now: clock().toISOString(), newId, actor: actor(req) }, body));
  });

  router.post('/events/batch', async (req, res) => {
    const { events } = validateBatch(req.body);
    const context = { store, now: clock().toISOString(), newId, actor: actor(req) };
    const results: object[] = new Array(events.length);
    const valid: { index: number; body: TrackEventBody }[] = [];
    events.forEach((item, index) => {
      try {
        valid.push({ index, body: validateTrackEvent(item) });
      } catch (error) {
        results[index] = failed(error, index);
      }
    });
    if (valid.length > 0) {
      // One round trip for every new id; an outage fails them all, and nothing was written on PostgreSQL.
      const registered = await registerTrackedEvents(context, valid.map(({ body }) => body)).catch((error: unknown) => valid.map(() => ({ error })));
      registered.forEach((outcome, n) => {
        const { index } = valid[n]!;
        results[index] = 'error' in outcome ? failed(outcome.error, index) : { index, status: 202, body: outcome };
      });
    }
    res.status(202).json({ results });
  });

  router.post('/events/simulate', async (req, res) => {
    const body = validateTrackEvent(req.body);
    const minPosition = await minPositionParam(req, store);
    if (minPosition !== undefined && !(await ruleBook.caughtUpTo(minPosition, 5000))) {
      throw new Problem(503, 'Service Unavailable', 'the rules have not caught up with minPosition yet; retry');
    }
    const { id: _id, ...document } = body;
    // A refund reverses what another event earned; the rules are never tried on it, so there is nothing to simulate.
    if (document.type === REFUND_TYPE) {
      return void res.json({ wouldMatch: [], skipReasons: [{ campaignId: null, reason: 'a refund is never matched against rules: it reverses what the event it refunds earned' }], rules: [] });
    }
    const now = clock().toISOString();
    const decision = ruleBook.book.decide(document as JsonObject, now, () => 'simulated');
    res.json({
      wouldMatch: decision.matches.map(({ earningId: _earningId, amount, ...match }) => ({ ...match, amount: toMajor(amount, match.currency) })),
      ...(decision.matches.length === 0 ? { skipReasons: decision.reasons } : {}),
      rules: ruleBook.book.explain(document as JsonObject, now),
    });
  });

  return router;
};

/** One item's failure, as POST /events would answer for it alone; pointers lead into the batch. */
const itemProblem = (error: unknown, index: number) => {
  // An outage fails the items, not the request: a retry of the batch with the same ids is safe.
  const problem = toProblem(error) ?? new Problem(503, 'Service Unavailable', 'this item could not be registered; retry it');
  return problemBody(new Problem(problem.status, problem.title, problem.detail, problem.errors?.map((e) => ({ ...e, pointer: `/events/${index}${e.pointer}` }))));
};
