import type { NextFunction, Request, Response } from 'express';
import type { EventStore } from '../infrastructure/event-store/event-store.ts';
import { minPositionParam } from '../infrastructure/http/min-position.ts';
import { Problem } from '../infrastructure/http/problem.ts';
import type { ReadModelsReached } from './read-model-progress.ts';

export interface ReadYourWritesOptions {
  readonly store: EventStore;
  readonly readModels: ReadModelsReached;
  /** Every read model's name: what a route not listed below waits for. */
  readonly allReadModels: readonly string[];
  /** MIN_POSITION_TIMEOUT_MS: how long a request waits before a 503. */
  readonly timeoutMs: number;
}

/** Which read models each route reads (the first that matches): a request waits for those only, so one failing read model stalls only its own routes. */
const READ_MODELS_BY_ROUTE: readonly (readonly [RegExp, readonly string[]])[] = [
  [/^\/campaigns\/[^/]+\/history$/, []],
  [/^\/campaigns(\/|$)/, ['campaigns', 'tracked-events', 'earnings']],
  [/^\/events\/[^/]+\/trail$/, ['messages']],
  [/^\/events(\/|$)/, ['tracked-events']],
  [/^\/(earnings|beneficiaries)(\/|$)/, ['earnings']],
  [/^\/messages(\/|$)/, ['messages']],
  [/^\/(streams|projections|ready|metrics)(\/|$)/, []],
];

/**
 * DESIGN §6, read-your-writes: any query API request may carry `minPosition`
 * (the `position` a command answered with), and is answered only once the
 * read models its route reads have taken in the log up to it (see
 * read-model-progress.ts), waiting up to `timeoutMs`, then 503 (with
 * Retry-After). A value that is not a position of this store, or lies beyond
 * the end of the log (no command answered it), is a 400.
 */
export const readYourWrites = ({ store, readModels, allReadModels, timeoutMs }: ReadYourWritesOptions) =>
  async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const raw = await minPositionParam(req, store);
    if (raw === undefined) return next();
    const names = READ_MODELS_BY_ROUTE.find(([route]) => route.test(req.path))?.[1] ?? allReadModels;
    if (names.length === 0 || (await readModels.reached(raw, names, timeoutMs))) return next();
    throw new Problem(503, 'Service Unavailable', `the read models have not reached minPosition within ${timeoutMs} ms; retry`);
  };
