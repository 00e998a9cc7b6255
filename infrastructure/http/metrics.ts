import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HealthCheck } from './health.ts';

/**
 * One registry per process: in `npm start` both APIs serve it, their requests
 * told apart by `api`; scrape one of the two ports there, or every sum doubles.
 */
const registry = new Registry();
collectDefaultMetrics({ register: registry });

const requestDuration = new Histogram({
  name: 'tally_http_request_duration_seconds',
  help: 'HTTP requests by API, method, route (its pattern, not the path) and status',
  labelNames: ['api', 'method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const subscriberLagSeconds = new Gauge({
  name: 'tally_subscriber_lag_seconds',
  help: 'Age of the oldest event of the log a subscriber (projection, reactor) has not handled; -1 when none runs it',
  labelNames: ['subscriber'] as const,
  registers: [registry],
});

const subscriberLagEvents = new Gauge({
  name: 'tally_subscriber_lag_events',
  help: 'Events of the log after a subscriber\u2019s position, counted up to 1000; -1 when none runs it',
  labelNames: ['subscriber'] as const,
  registers: [registry],
});

const subscriberRunning = new Gauge({
  name: 'tally_subscriber_up',
  help: '1 when a subscriber runs or catches up, 0 when it fails, stands by only or is stopped',
  labelNames: ['subscriber'] as const,
  registers: [registry],
});

/** Times every request of `api`, labelled by the route that answered it (`unmatched` for a 404 of no route). */
export const httpMetrics = (api: 'command' | 'query'): RequestHandler => (req, res, next) => {
  const end = requestDuration.startTimer();
  res.on('finish', () => {
    const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched';
    end({ api, method: req.method, route, status: String(res.statusCode) });
  });
  next();
};

/** `GET /metrics`: Prometheus text, the subscribers' lag and state read from /health's check at each scrape. */
export const metricsRoute = (health: HealthCheck): RequestHandler => async (_req, res) => {
  const { subscribers } = await health();
  // Set afresh at each scrape: a subscriber no longer reported leaves no stale series behind.
  for (const gauge of [subscriberLagSeconds, subscriberLagEvents, subscriberRunning]) gauge.reset();
  for (const [subscriber, { state, lag }] of Object.entries(subscribers)) {
    subscriberLagSeconds.set({ subscriber }, lag?.seconds ?? -1);
    subscriberLagEvents.set({ subscriber }, lag?.events ?? -1);
    subscriberRunning.set({ subscriber }, state === 'running' || state === 'catching-up' ? 1 : 0);
  }
  res.setHeader('Content-Type', registry.contentType).send(await registry.metrics());
};
