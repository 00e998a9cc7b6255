import { sleep } from '../../sleep.ts';
import type { RecordedEvent, Subscription } from '../event-store.ts';

export interface PollingSubscriptionOptions {
  readonly fromPosition: string | undefined;
  /**
   * Events after `after` that the filter wants, in position order, and the
   * last position looked at (undefined: nothing new), so that a run of
   * unwanted events is passed over once, not read again at every poll.
   */
  readonly readPage: (after: string | undefined) => Promise<{ events: RecordedEvent[]; scannedTo: string | undefined }>;
  /** A counter of write notifications seen so far. */
  readonly writeGeneration: () => number;
  /** Resolves at once if writes were notified since `since`, else on the next notification, on timeout or on abort. */
  readonly waitForWrites: (timeoutMs: number, signal: AbortSignal, since: number) => Promise<void>;
  readonly maxPollIntervalMs: number;
}

/**
 * Catch-up then live. After an empty read it re-reads quickly a few times
 * (a just-committed row can stay hidden while an older transaction is still
 * open), backing off to `maxPollIntervalMs`; a notification cuts any wait short.
 */
export const pollingSubscription = ({ fromPosition, readPage, writeGeneration, waitForWrites, maxPollIntervalMs }: PollingSubscriptionOptions): Subscription => {
  const abort = new AbortController();
  let after = fromPosition;

  async function* run(): AsyncGenerator<RecordedEvent> {
    let idleMs = 5;
    let failures = 0;
    while (!abort.signal.aborted) {
      const seen = writeGeneration();
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
        idleMs = 5;
        continue;
      }
      await waitForWrites(idleMs, abort.signal, seen);
      idleMs = Math.min(idleMs * 2, maxPollIntervalMs);
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
