import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { EventStore, RecordedEvent } from '../infrastructure/event-store/event-store.ts';
import { basicAuth } from '../infrastructure/http/basic-auth.ts';
import { healthRoute, type HealthCheck } from '../infrastructure/http/health.ts';
import { httpMetrics, metricsRoute } from '../infrastructure/http/metrics.ts';
import { readyRoute, type ReadinessCheck } from '../infrastructure/http/readiness.ts';
import { notFound, problemHandler } from '../infrastructure/http/problem.ts';
import { refuseUnstorableParams, refuseUnstorableQuery } from '../infrastructure/http/storable-url.ts';
import type { Logger } from '../infrastructure/logger.ts';
import type { ChannelListener } from '../infrastructure/postgres/notifications.ts';
import { createDecisionWaiters } from './decision-waiters.ts';
import { earningRoutes } from './earning-routes.ts';
import { redactSecrets } from './redact-secrets.ts';
import { messageRoutes } from './message-routes.ts';
import { numberParam } from './query-params.ts';
import { createReadModelQueries } from './read-model-queries.ts';
import { eventTrail } from './event-trail.ts';
import { asOfParam } from './as-of-param.ts';
import { campaignAsOf } from '../projections/read-models/campaign-as-of.ts';
import { readYourWrites, type ReadYourWritesOptions } from './read-your-writes.ts';

export interface QueryApiOptions {
  readonly knex: Knex;
  readonly store: EventStore;
  /** Wakes long-polls when the projector commits. */
  readonly readModelChanges: ChannelListener;
  /** What a request with `minPosition` waits for (see read-your-writes.ts). */
  readonly readYourWrites: Omit<ReadYourWritesOptions, 'store'>;
  readonly username: string;
  readonly password: string;
  readonly logger: Logger;
  readonly health: HealthCheck;
  readonly readiness: ReadinessCheck;
}

const MAX_WAIT_SECONDS = 30;

/** A domain event as the audit routes show it: as written, but a webhook secret, and the revision as a string. */
const auditView = (event: RecordedEvent) => ({ ...event, data: redactSecrets(event.data), revision: event.revision.toString() });

export const createQueryApi = ({ knex, store, readModelChanges, readYourWrites: waitFor, username, password, logger, health, readiness }: QueryApiOptions): Express => {
  const queries = createReadModelQueries(knex);
  const decisions = createDecisionWaiters(knex, readModelChanges);
  const app = express();
  app.disable('x-powered-by');

  app.use(httpMetrics('query'));
  app.get('/health', healthRoute(health));

  app.use(basicAuth(username, password));
  app.get('/ready', readyRoute(readiness));
  app.get('/metrics', metricsRoute(health));
  app.use(refuseUnstorableQuery);
  refuseUnstorableParams(app, 'id', 'streamId');
  app.use(readYourWrites({ store, ...waitFor }));

  // Each read model's position, lag and state: the subscriber part of /health, behind auth.
  app.get('/projections', async (_req, res) => {
    const { subscribers } = await health();
    res.json({ projections: Object.fromEntries(Object.entries(subscribers).filter(([name]) => name.startsWith('projection:'))) });
  });

  app.get('/campaigns', async (req, res) => {
    const limit = numberParam(req, 'limit', { min: 1, max: 1000, fallback: 100 });
    const offset = numberParam(req, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    res.json({ campaigns: await queries.campaigns(limit, offset), limit, offset });
  });

  app.get('/campaigns/:id', async (req, res) => {
    const campaign = await queries.campaign(req.params.id);
    if (!campaign) throw notFound(`campaign ${req.params.id} not found`);
    res.setHeader('ETag', `"${campaign.revision}"`).json(campaign);
  });

  app.get('/events/:id', async (req, res) => {
    const waitMs = numberParam(req, 'wait', { min: 0, max: MAX_WAIT_SECONDS, fallback: 0, integer: false }) * 1000;
    const deadline = Date.now() + waitMs;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    for (;;) {
      // Read the counter before the row, so a commit in between still wakes us.
      const seen = readModelChanges.generation();
      const event = await queries.trackedEvent(req.params.id);
      const remaining = deadline - Date.now();
      if ((event && event.status !== 'pending') || remaining <= 0 || gone.signal.aborted) {
        if (!event) throw notFound(`event ${req.params.id} not found`);
        return void res.json(event);
      }
      await decisions.waitFor(req.params.id, remaining, gone.signal, seen);
    }
  });

  app.use(earningRoutes(knex));
  app.use(messageRoutes(knex));

  app.get('/streams/:streamId', async (req, res) => {
    const events = [];
    for await (const event of store.readStream(req.params.streamId)) events.push(auditView(event));
    if (events.length === 0) throw notFound(`stream ${req.params.streamId} not found`);
    res.json({ streamId: req.params.streamId, events });
  });

  app.get('/campaigns/:id/history', async (req, res) => {
    const asOf = asOfParam(req);
    const recorded: RecordedEvent[] = [];
    for await (const event of store.readStream(`campaign-${req.params.id}`)) {
      if (asOf && !asOf.includes(event)) break;
      recorded.push(event);
    }
    if (recorded.length === 0 && !asOf) throw notFound(`campaign ${req.params.id} not found`);
    const campaign = campaignAsOf(recorded);
    if (!campaign) throw notFound(`campaign ${req.params.id} did not exist as of ${String(req.query.asOf)}`);
    res.json({ ...campaign, asOf: { revision: campaign.revision, recordedAt: recorded[recorded.length - 1]!.recordedAt.toISOString() } });
  });

  app.get('/events/:id/trail', async (req, res) => {
    const trail = await eventTrail(store, knex, req.params.id);
    if (!trail) throw notFound(`event ${req.params.id} not found`);
    res.json({ id: req.params.id, events: trail.map(auditView) });
  });

  app.use((_req, _res, next) => next(notFound()));
  app.use(problemHandler(logger));
  return app;
};
