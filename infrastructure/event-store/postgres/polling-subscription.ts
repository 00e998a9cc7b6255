import { sleep } from '../../sleep.ts';
import { matchesFilter, type RecordedEvent, type Subscription, type SubscriptionFilter } from '../event-store.ts';
import type { LogTail } from './log-tail.ts';

export interface PollingSubscriptionOptions {
  readonly fromPosition: string | undefined;
  readonly filter: SubscriptionFilter | undefined;
  /**
   * The subscriber's own read, while it is behind what the process's tail
   * holds: events after `after` that the filter wants, in position order, and
   * the last position looked at (undefined: nothing visible after `after`), so
   * that a run of unwanted events is passed over once.
   */
  readonly readPage: (after: string | undefined) => Promise<{ events: RecordedEvent[]; scannedTo: string | undefined }>;
  readonly tail: LogTail;
}

/**
 * Catch-up then live. Behind the tail it reads its own pages; once it reaches
 * the tail it takes what the process's one reader of the log's head has read
 * (log-tail.ts), and falls back to its own pages if it falls behind again.
 */
export const pollingSubscription = ({ fromPosition, filter, readPage, tail }: PollingSubscriptionOptions): Subscription => {
  const abort = new AbortController();
  let after = fromPosition;

  async function* run(): AsyncGenerator<RecordedEvent> {
    let failures = 0;
    while (!abort.signal.aborted) {
      const held = tail.eventsAfter(after);
      if (held !== undefined) {
        if (held.length === 0) {
          await tail.waitPast(after, abort.signal);
          continue;
        }
        for (const event of held) {
          if (abort.signal.aborted) return;
          after = event.position;
          if (matchesFilter(filter, event)) yield event;
        }
        continue;
      }
      const tailStart = tail.start();
      let page: { events: RecordedEvent[]; scannedTo: string | undefined };
      try {
        page = await readPage(after);
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) return;
        // A bad position is a bug; anything else (the database restarting) is waited out.
        if (error instanceof TypeError) throw error;
        failures++;
        await sleep(Math.min(100 * 2 ** failures, 5000), abort.signal);
        continue;
      }
      for (const event of page.events) {
        if (abort.signal.aborted) return;
        after = event.position;
        yield event;
      }
      if (page.scannedTo !== undefined) {
        after = page.scannedTo;
      } else if (tailStart === null) {
        // Nothing visible after `after`: the log's head. The process's tail follows it from here.
        tail.follow(after);
      } else {
        // Behind the tail, yet nothing visible: a horizon can step back for a moment (a transaction that
        // appended nothing ended between snapshot and check). The events are there: read again shortly.
        await sleep(5, abort.signal);
      }
    }
  }

  const iterator = run();
  return {
    [Symbol.asyncIterator]: () => iterator,
    position: () => after,
    close: async () => {
      abort.abort();
    },
  };
};
