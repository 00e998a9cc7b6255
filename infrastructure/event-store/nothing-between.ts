import { isAtOrAfter, type EventStore } from './event-store.ts';

/**
 * Whether no event of `eventTypes` lies after `from` (exclusive) up to `to`
 * (inclusive), looking at no more than `limit` events of the log. A filtered
 * subscriber's position may stay behind events it does not want; if none of
 * its own lies in between, it is as current at `to` as if it had reached it.
 * False when it cannot tell within `limit` (a long stretch is left to the
 * subscriber to cover), or when `to` lies beyond what the log holds.
 */
export const nothingOfTypesUpTo = async (store: EventStore, from: string | undefined, to: string, eventTypes: readonly string[], limit = 1000): Promise<boolean> => {
  for await (const event of store.readAll({ fromPosition: from, maxCount: limit })) {
    if (isAtOrAfter(event.position, to) && event.position !== to) return true;
    if (eventTypes.includes(event.type)) return false;
    if (event.position === to) return true;
  }
  return false;
};
