import { sleep } from '../../sleep.ts';
import type { RecordedEvent, Subscription } from '../event-store.ts';

export interface PollingSubscriptionOptions {
  readonly fromPosition: string | undefined;
  /** Events after `after`, in position order; empty when caught up. */
  readonly readPage: (after: string | undefined) => Promise<RecordedEvent[]>;
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
      let page: RecordedEvent[];
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
      for (const event of page) {
        if (abort.signal.aborted) return;
        after = event.position;
        yield event;
      }
      if (page.length > 0) {
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
    close: async () => {
      abort.abort();
    },
  };
};
