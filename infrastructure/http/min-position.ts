import type { Request } from 'express';
import { isAtOrAfter, type EventStore } from '../event-store/event-store.ts';
import { badRequest } from './problem.ts';

/**
 * `?minPosition=`, as both APIs take it: undefined when absent; a 400 when it
 * is not a position of this store, or lies beyond the end of the log (no
 * answer ever gave it, and waiting for it would only end in a 503).
 */
export const minPositionParam = async (req: Request, store: EventStore): Promise<string | undefined> => {
  const raw = req.query.minPosition;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !store.isPosition(raw)) {
    throw badRequest('minPosition must be a position from an earlier answer', [{ pointer: '/query/minPosition', message: 'is not a position' }]);
  }
  if (!isAtOrAfter(await store.headPosition(), raw)) {
    throw badRequest('minPosition is beyond the end of the log; it must be a position from an earlier answer', [{ pointer: '/query/minPosition', message: 'is beyond the end of the log' }]);
  }
  return raw;
};
