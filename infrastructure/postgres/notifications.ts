import pg from 'pg';
import type { DatabaseTimeouts } from '../config.ts';
import { connectionConfig } from './database.ts';

/**
 * One LISTEN connection shared by every waiter in the process. If it drops,
 * it reconnects with backoff; waiters never depend on it alone (they poll too),
 * so a lost notification only costs latency, never an event.
 */
export interface ChannelListener {
  /** Counts notifications; pass it to `wait` so none that came in between is missed. */
  generation(): number;
  /** Resolves at once if a notification came since `since`, else on the next one, after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal, since?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The connection sits idle for ever by design: keepalive notices a dead peer
 * and the connect timeout bounds each attempt (`connectionConfig`); nothing
 * there ends an idle session.
 */
export const listenToChannel = (connectionString: string, channel: string, timeouts?: DatabaseTimeouts): ChannelListener => {
  const waiters = new Set<() => void>();
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 100;
  let generation = 0;

  const wakeAll = (): void => {
    generation++;
    for (const wake of [...waiters]) wake();
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client(connectionConfig(connectionString, timeouts));
    next.on('notification', wakeAll);
    next.on('error', () => {
      if (client === next) client = undefined;
      void next.end().catch(() => undefined);
      setTimeout(() => void connect(), retryMs).unref();
      retryMs = Math.min(retryMs * 2, 5000);
    });
    try {
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      if (closed) return void (await next.end());
      client = next;
      retryMs = 100;
      wakeAll(); // anything may have happened while we were not listening
    } catch {
      void next.end().catch(() => undefined);
      setTimeout(() => void connect(), retryMs).unref();
      retryMs = Math.min(retryMs * 2, 5000);
    }
  };
  void connect();

  return {
    generation: () => generation,
    wait: (timeoutMs, signal, since) =>
      new Promise<void>((resolve) => {
        if (since !== undefined && since !== generation) return resolve();
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
        signal?.addEventListener('abort', done);
        if (signal?.aborted) done();
      }),
    close: async () => {
      closed = true;
      wakeAll();
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
};

/**
 * Sends NOTIFY after commit, outside the writer's transaction (NOTIFY inside a
 * transaction takes a global lock at commit and serialises writers). Bursts
 * collapse: while one NOTIFY is in flight, further pokes make one more.
 */
export const createNotifier = (pool: pg.Pool, channel: string): { poke(): void } => {
  let inFlight = false;
  let again = false;
  const send = (): void => {
    inFlight = true;
    again = false;
    pool
      .query('select pg_notify($1, $2)', [channel, ''])
      .catch(() => undefined) // readers poll as a fallback
      .finally(() => {
        inFlight = false;
        if (again) send();
      });
  };
  return {
    poke: () => {
      if (inFlight) again = true;
      else send();
    },
  };
};
