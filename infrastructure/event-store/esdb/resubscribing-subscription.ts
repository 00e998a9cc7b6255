import { sleep } from '../../sleep.ts';
import type { RecordedEvent, Subscription } from '../event-store.ts';

export interface Attempt {
  readonly events: AsyncIterable<RecordedEvent>;
  close(): Promise<void>;
}

export interface ResubscribingOptions {
  readonly fromPosition: string | undefined;
  /**
   * Opens one server subscription after the given position (exclusive).
   * `passedOver` reports a filter checkpoint once every event before it has been consumed.
   */
  readonly subscribe: (after: string | undefined, passedOver: (position: string) => void) => Attempt;
  readonly maxDelayMs: number;
  readonly onResubscribe?: (error: unknown, attempt: number) => void;
}

/**
 * EventStoreDB does not resubscribe by itself when a subscription call ends or
 * breaks (DESIGN §3). This does: from the last position it delivered, with
 * exponential backoff, dropping anything at or before that position so the
 * consumer sees no gap and no duplicate.
 */
export const resubscribingSubscription = ({ fromPosition, subscribe, maxDelayMs, onResubscribe }: ResubscribingOptions): Subscription => {
  const stopping = new AbortController();
  let current: Attempt | undefined;
  let last = fromPosition;

  async function* run(): AsyncGenerator<RecordedEvent> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      let dropped: unknown = new Error('the server ended the subscription');
      current = subscribe(last, (position) => {
        // Everything up to a checkpoint was looked at and filtered out: resuming from it skips nothing.
        if (last === undefined || position > last) last = position;
      });
      try {
        for await (const event of current.events) {
          if (stopping.signal.aborted) return;
          if (last !== undefined && event.position <= last) continue;
          last = event.position;
          failures = 0;
          yield event;
        }
      } catch (error) {
        dropped = error;
      } finally {
        await current.close().catch(() => undefined);
      }
      if (stopping.signal.aborted) return;
      failures++;
      onResubscribe?.(dropped, failures);
      await sleep(Math.min(50 * 2 ** (failures - 1), maxDelayMs), stopping.signal);
    }
  }

  const iterator = run();
  return {
    [Symbol.asyncIterator]: () => iterator,
    position: () => last,
    close: async () => {
      stopping.abort();
      await current?.close().catch(() => undefined);
    },
  };
};
