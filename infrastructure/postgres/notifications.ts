import pRetry from 'p-retry';
import pg from 'pg';
import type { DatabaseTimeouts } from '../config.ts';
import { everyErrorRetried } from '../retry-until-stopped.ts';
import { sleep } from '../sleep.ts';
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
 * there ends an idle session. One loop owns the connection, so there is never
 * more than one, however it fails (pg may report one loss twice: an error,
 * then the end of the socket).
 */
/** `payloads`: only notifications with one of these payloads count (all, without it). */
export const listenToChannel = (connectionString: string, channel: string, timeouts?: DatabaseTimeouts, payloads?: readonly string[]): ChannelListener => {
  const waiters = new Set<() => void>();
  const closing = new AbortController();
  /** The one connection: being opened, or listening. */
  let current: pg.Client | undefined;
  let generation = 0;

  const wakeAll = (): void => {
    generation++;
    for (const wake of [...waiters]) wake();
  };

  /** Resolves once listening; `ended` settles when the connection is lost, and ended. */
  const listen = async (): Promise<{ ended: Promise<void> }> => {
    closing.signal.throwIfAborted();
    const client = new pg.Client(connectionConfig(connectionString, timeouts));
    current = client;
    const lost = new Promise<Error>((resolve) => {
      client.on('error', resolve);
      client.on('end', () => resolve(new Error('the LISTEN connection ended')));
    });
    const ended = lost.then(() => client.end().catch(() => undefined));
    client.on('notification', ({ payload }) => {
      if (!payloads || payloads.includes(payload ?? '')) wakeAll();
    });
    try {
      const listening = client.connect().then(() => client.query(`listen ${pg.escapeIdentifier(channel)}`));
      // pg never settles connect() on a client ended meanwhile (by close()): its end settles this.
      await Promise.race([listening, lost.then((error) => Promise.reject(error))]);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    wakeAll(); // anything may have happened while we were not listening
    return { ended };
  };

  const running = (async () => {
    while (!closing.signal.aborted) {
      // Backoff starts afresh after each connection that worked.
      const listening = await pRetry(everyErrorRetried(listen), { retries: Number.POSITIVE_INFINITY, minTimeout: 100, maxTimeout: 5000, signal: closing.signal, unref: true }).catch(() => undefined);
      await listening?.ended;
      await sleep(100, closing.signal); // a server that drops every session at once is not hammered
    }
  })();

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
      closing.abort();
      wakeAll();
      // Also a connection still being opened: its attempt then fails, and no other follows.
      await current?.end().catch(() => undefined);
      await running;
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
