import type { Knex } from 'knex';
import type { ChannelListener } from '../infrastructure/postgres/notifications.ts';

export interface DecisionWaiters {
  /**
   * Resolves when tracked event `id` may have been decided: one shared query
   * after each read-model commit found it decided, or a commit came in since
   * `since` (the caller then reads for itself), or after `timeoutMs`, or on abort.
   */
  waitFor(id: string, timeoutMs: number, signal: AbortSignal, since: number): Promise<void>;
}

/** Longest a waiter goes without a look, should a notification be lost. */
const POLL_MS = 1000;

/**
 * Long-polls (`GET /events/:id?wait=`) share one query per read-model commit,
 * for every id waited on, instead of each re-reading its own row at every
 * commit: thousands of waiters cost one query a commit.
 */
export const createDecisionWaiters = (knex: Knex, changes: ChannelListener): DecisionWaiters => {
  const waiting = new Map<string, Set<() => void>>();
  let looking = false;

  const look = async (): Promise<void> => {
    looking = true;
    try {
      // Taken before each query: a commit during it makes the next look start at once.
      let seen = changes.generation();
      while (waiting.size > 0) {
        await changes.wait(POLL_MS, undefined, seen);
        if (waiting.size === 0) break;
        seen = changes.generation();
        const rows = await knex('rm_tracked_events')
          .whereRaw('id = any(?)', [[...waiting.keys()]])
          .whereNot({ status: 'pending' })
          .select<{ id: string }[]>('id')
          .catch(() => []); // the database away: each waiter times out, or the next look finds it
        for (const { id } of rows) for (const wake of waiting.get(id) ?? []) wake();
      }
    } finally {
      looking = false;
    }
  };

  return {
    waitFor: (id, timeoutMs, signal, since) =>
      new Promise<void>((resolve) => {
        if (since !== changes.generation() || signal.aborted) return resolve();
        const wake = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          const set = waiting.get(id);
          set?.delete(wake);
          if (set?.size === 0) waiting.delete(id);
          resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        signal.addEventListener('abort', wake, { once: true });
        let set = waiting.get(id);
        if (!set) waiting.set(id, (set = new Set()));
        set.add(wake);
        if (!looking) void look();
      }),
  };
};
