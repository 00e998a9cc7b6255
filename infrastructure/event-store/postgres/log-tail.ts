import { sleep } from '../../sleep.ts';
import { isAtOrAfter, type RecordedEvent } from '../event-store.ts';

export interface LogTailOptions {
  /** Visible events after `after`, in position order, at most `limit`. */
  readonly readPage: (after: string | undefined, limit: number) => Promise<RecordedEvent[]>;
  /** A counter of write notifications seen so far. */
  readonly writeGeneration: () => number;
  /** Resolves at once if writes were notified since `since`, else on the next notification, on timeout or on abort. */
  readonly waitForWrites: (timeoutMs: number, signal: AbortSignal, since: number) => Promise<void>;
  readonly maxPollIntervalMs: number;
  readonly pageSize: number;
  /** Events kept in memory; a subscriber further behind reads its own pages. */
  readonly capacity: number;
}

/**
 * The one reader of the log's head in a process: it reads each new stretch of
 * the log once and keeps the latest events in memory, and every subscriber of
 * the process takes them from here instead of querying for itself. Reads are
 * coalesced: at most one is in flight, and a notification that arrives during
 * it makes the next one start right after. It reads only while a subscriber
 * waits for more.
 */
export interface LogTail {
  /**
   * The events after `after` that the tail holds, or undefined when `after`
   * lies before what it holds (the caller reads its own pages, from the log).
   */
  eventsAfter(after: string | undefined): readonly RecordedEvent[] | undefined;
  /** The exclusive start of what the tail holds (undefined: the start of the log); null before it starts. */
  start(): string | undefined | null;
  /** Starts following the log after `position`, if not following yet. */
  follow(position: string | undefined): void;
  /** Resolves when the tail holds events after `position`, or on abort. */
  waitPast(position: string | undefined, signal: AbortSignal): Promise<void>;
  close(): void;
}

const firstAfter = (events: readonly RecordedEvent[], position: string): number => {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isAtOrAfter(position, events[middle]!.position)) low = middle + 1;
    else high = middle;
  }
  return low;
};

export const createLogTail = ({ readPage, writeGeneration, waitForWrites, maxPollIntervalMs, pageSize, capacity }: LogTailOptions): LogTail => {
  const closing = new AbortController();
  let following = false;
  let start: string | undefined;
  let events: RecordedEvent[] = [];
  const waiters = new Set<{ position: string | undefined; wake: () => void }>();
  let someoneWaits: (() => void) | undefined;

  const head = (): string | undefined => events.at(-1)?.position ?? start;
  const covers = (position: string | undefined): boolean => start === undefined || (position !== undefined && isAtOrAfter(position, start));

  const run = async (): Promise<void> => {
    let idleMs = 5;
    let failures = 0;
    while (!closing.signal.aborted) {
      if (waiters.size === 0) {
        await new Promise<void>((resolve) => (someoneWaits = resolve));
        continue;
      }
      const seen = writeGeneration();
      let page: RecordedEvent[];
      try {
        page = await readPage(head(), pageSize);
        failures = 0;
      } catch {
        // The database restarting, say: waited out; subscribers keep waiting meanwhile.
        failures++;
        await sleep(Math.min(100 * 2 ** failures, 5000), closing.signal);
        continue;
      }
      if (page.length > 0) {
        events = events.concat(page);
        if (events.length > capacity) {
          const dropped = events.length - capacity;
          start = events[dropped - 1]!.position;
          events = events.slice(dropped);
        }
        const now = head();
        for (const waiter of [...waiters]) if (!isAtOrAfter(waiter.position, now!)) waiter.wake();
        idleMs = 5;
        if (page.length === pageSize) continue;
      }
      await waitForWrites(idleMs, closing.signal, seen);
      // A just-committed event can stay hidden while an older append is still open: look again soon.
      idleMs = page.length > 0 ? 5 : Math.min(idleMs * 2, maxPollIntervalMs);
    }
  };

  return {
    eventsAfter(after) {
      if (!following || !covers(after)) return undefined;
      return after === undefined ? events : events.slice(firstAfter(events, after));
    },
    start: () => (following ? start : null),
    follow(position) {
      if (following) return;
      following = true;
      start = position;
      void run();
    },
    waitPast: (position, signal) =>
      new Promise<void>((resolve) => {
        const now = head();
        if (now !== undefined && !isAtOrAfter(position, now)) return resolve();
        const waiter = {
          position,
          wake: () => {
            waiters.delete(waiter);
            signal.removeEventListener('abort', waiter.wake);
            resolve();
          },
        };
        waiters.add(waiter);
        signal.addEventListener('abort', waiter.wake, { once: true });
        if (signal.aborted) waiter.wake();
        someoneWaits?.();
        someoneWaits = undefined;
      }),
    close() {
      closing.abort();
      for (const waiter of [...waiters]) waiter.wake();
      someoneWaits?.();
    },
  };
};
