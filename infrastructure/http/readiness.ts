import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { EventStore } from '../event-store/event-store.ts';
import { dependencyChecks } from './health.ts';

/** What `GET /ready` asks: this process's own dependencies, by name (`ok`, or `failing: why`). */
export type ReadinessCheck = () => Promise<Record<string, string>>;

export const createReadinessCheck = (knex: Knex, store: EventStore): ReadinessCheck => () => dependencyChecks(knex, store);

/**
 * `GET /ready`: 200 when this process can serve requests now (its database
 * and event store answer), else 503 saying which does not. Unlike /health,
 * the subscribers behind the read side do not count: a projector that lags
 * is no reason for a load balancer to stop sending requests to an API.
 */
export const readyRoute = (check: ReadinessCheck): RequestHandler => async (_req, res) => {
  const checks = await check();
  const ready = Object.values(checks).every((value) => value === 'ok');
  res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
};
