import type { Request } from 'express';
import type { RecordedEvent } from '../infrastructure/event-store/event-store.ts';
import { toUtcDateTime } from '../infrastructure/http/date-time.ts';
import { badRequest } from '../infrastructure/http/problem.ts';
import { stringParam } from './query-params.ts';

/** Which events of a stream `asOf` keeps: those up to a revision, or recorded up to a moment. */
export interface AsOf {
  includes(event: RecordedEvent): boolean;
}

/**
 * `?asOf=`: a stream revision (`3`: the stream as its first four events left
 * it) or an RFC 3339 date-time (as the log held it then, by each event's
 * `recordedAt`); absent: as it is now. Anything else is a 400.
 */
export const asOfParam = (req: Request): AsOf | undefined => {
  const raw = stringParam(req, 'asOf');
  if (raw === undefined) return undefined;
  if (/^\d{1,18}$/.test(raw)) {
    const revision = BigInt(raw);
    return { includes: (event) => event.revision <= revision };
  }
  const moment = toUtcDateTime(raw);
  if (moment === undefined) throw badRequest('asOf must be a revision (a whole number) or an RFC 3339 date-time', [{ pointer: '/query/asOf', message: 'is neither a revision nor a date-time' }]);
  const time = Date.parse(moment);
  return { includes: (event) => event.recordedAt.getTime() <= time };
};
