import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import { isAtOrAfter, type EventStore } from '../infrastructure/event-store/event-store.ts';
import { nothingOfTypesUpTo } from '../infrastructure/event-store/nothing-between.ts';
import { badRequest, Problem } from '../infrastructure/http/problem.ts';
import type { ChannelListener } from '../infrastructure/postgres/notifications.ts';

/** A read model as the query API waits for it: its projection's checkpoint, and the domain events that move it. */
export interface ReadModelProgress {
  readonly checkpoint: string;
  readonly eventTypes: readonly string[];
}

export interface ReadYourWritesOptions {
  readonly knex: Knex;
  readonly store: EventStore;
  readonly readModels: readonly ReadModelProgress[];
  /** Wakes the wait when a projection commits. */
  readonly changes: ChannelListener;
  /** MIN_POSITION_TIMEOUT_MS: how long a request waits before a 503. */
  readonly timeoutMs: number;
}

/** Longest between two looks, should a notification be lost. */
const POLL_MS = 250;

const invalid = (message: string) => badRequest(`minPosition ${message}; it must be a position from an earlier answer`, [{ pointer: '/query/minPosition', message }]);

/**
 * DESIGN §6, read-your-writes: any query API request may carry `minPosition`
 * (the `position` a command answered with), and is answered only once every
 * read model has taken in the log up to it: its projection's checkpoint is
 * there, or nothing the projection reads lies between its checkpoint and it.
 * It waits for the projections' commits, up to `timeoutMs`, then answers 503
 * (with Retry-After). A value that is not a position of this store, or lies
 * beyond the end of the log (no command answered it), is a 400.
 */
export const readYourWrites = ({ knex, store, readModels, changes, timeoutMs }: ReadYourWritesOptions) => {
  const caughtUp = async (minPosition: string): Promise<boolean> => {
    const rows = await knex('tally_checkpoints').whereIn('name', readModels.map((model) => model.checkpoint)).select<{ name: string; position: string | null }[]>('name', 'position');
    const positions = new Map(rows.map((row) => [row.name, row.position ?? undefined]));
    const behind = readModels.filter((model) => !isAtOrAfter(positions.get(model.checkpoint), minPosition));
    const current = await Promise.all(behind.map((model) => nothingOfTypesUpTo(store, positions.get(model.checkpoint), minPosition, model.eventTypes)));
    return current.every(Boolean);
  };

  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const raw = req.query.minPosition;
    if (raw === undefined) return next();
    if (typeof raw !== 'string' || !store.isPosition(raw)) throw invalid('is not a position');
    if (!isAtOrAfter(await store.headPosition(), raw)) throw invalid('is beyond the end of the log');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Taken before looking: a commit during the look makes the next one start at once.
      const seen = changes.generation();
      if (await caughtUp(raw)) return next();
      const left = deadline - Date.now();
      if (left <= 0) throw new Problem(503, 'Service Unavailable', `the read models have not reached minPosition within ${timeoutMs} ms; retry`);
      await changes.wait(Math.min(left, POLL_MS), undefined, seen);
    }
  };
};
