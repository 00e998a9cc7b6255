import pg from 'pg';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from '../config.ts';
import type { Logger } from '../logger.ts';
import { sleep } from '../sleep.ts';
import { connectionConfig } from './database.ts';

/**
 * Session advisory locks naming the roles that must run once per database
 * (DESIGN §6). Same class as the event store's append lock, other objects.
 */
export const LEADER_LOCKS = {
  projector: { classId: 0x74616c6c, objectId: 2 },
  'rule-engine': { classId: 0x74616c6c, objectId: 3 },
  // Message requests and their delivery (issue 10): one deliverer at a time, so a message is not sent twice at once.
  // (objectId 4 is the migration lock, infrastructure/postgres/migration-lock.ts.)
  messaging: { classId: 0x74616c6c, objectId: 5 },
  // Campaign descriptions: appending is guarded anyway; one generator at a time spares a second, wasted LLM call.
  'campaign-copy': { classId: 0x74616c6c, objectId: 6 },
  // Earning approvals (issue 11): appending is guarded anyway; one instance at a time spares the others' reads of every due stream.
  'earning-approvals': { classId: 0x74616c6c, objectId: 7 },
} as const;

export type ElectedRole = keyof typeof LEADER_LOCKS;

export interface Led {
  stop(): Promise<void>;
}

export interface ElectionOptions {
  readonly url: string;
  readonly timeouts?: DatabaseTimeouts;
  readonly role: ElectedRole;
  readonly logger: Logger;
  /** How often a standby tries to take over, and the leader checks its lock's connection. */
  readonly intervalMs?: number;
  /** This process waits: another one leads. */
  readonly onStandby: () => void;
  /** This process leads: start the role. */
  readonly lead: () => Promise<Led>;
}

export interface Election {
  /** True only while the role runs: not while it starts, nor after the lock's connection failed a check. */
  isLeader(): boolean;
  stop(): Promise<void>;
}

export interface LockSession {
  readonly config: pg.ClientConfig;
  /** Every query on it fails after this long without an answer: the leader's `select 1` too, and it steps down. */
  readonly checkTimeoutMs: number;
}

/**
 * The lock's connection must notice a dead peer on both ends. The leader
 * checks it every `intervalMs` and gives up after `checkTimeoutMs` without an
 * answer (a blackholed network would otherwise keep it leading for the whole
 * query timeout). PostgreSQL, told by TCP keepalive, ends the session of a
 * leader whose machine vanished, so that a standby can take the lock; it must
 * wait longer than that leader would need to notice on its own and step down,
 * or two would lead. A healthy leader's checks keep the connection busier than
 * `idle`, so no probe is ever sent to it. Keepalive settings in the URL's own
 * `options` replace these; DATABASE_KEEPALIVE_MS=0 leaves the server's.
 */
export const lockSession = (url: string, role: ElectedRole, intervalMs: number, timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): LockSession => {
  const checkTimeoutMs = Math.min(Math.max(3 * intervalMs, 2000), timeouts.queryTimeoutMs || Number.POSITIVE_INFINITY);
  // Its queries (try the lock, `select 1`) answer at once on a live server, so one short limit fits them all.
  const config: pg.ClientConfig = { ...connectionConfig(url, timeouts), query_timeout: checkTimeoutMs, application_name: `tally ${role} lock` };
  if (timeouts.keepAliveMs === 0) return { config, checkTimeoutMs };
  const idle = Math.max(Math.ceil(timeouts.keepAliveMs / 1000), Math.ceil((intervalMs + checkTimeoutMs) / 1000) + 1);
  const options = `-c tcp_keepalives_idle=${idle} -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3`;
  return { config: { ...config, options }, checkTimeoutMs };
};

/**
 * Runs `lead` while this process holds the role's lock, on a connection of
 * its own: PostgreSQL releases a session lock when the session ends, so a
 * leader that dies (kill -9, or a lost machine once keepalive gives up) hands
 * over to a standby within about `intervalMs`. A leader whose lock connection
 * fails, or leaves a check unanswered for `checkTimeoutMs`, starts stopping its
 * role then, before the server lets the lock go (its keepalive is set to give
 * up later: lockSession). Stopping waits for the batch in hand, which may still
 * be running when a standby takes over; that is safe, not prevented: every
 * role's writes are guarded (a projection's checkpoint row lock, appends checked
 * against revisions, checkpoints that never move back).
 */
export const runElection = ({ url, timeouts, role, logger, intervalMs = 1000, onStandby, lead }: ElectionOptions): Election => {
  const log = logger.child({ election: role });
  const stopping = new AbortController();
  const lock = LEADER_LOCKS[role];
  const session = lockSession(url, role, intervalMs, timeouts);
  let leading = false;

  /** Until the lock's connection is lost or the election stops. */
  const holdOnce = async (): Promise<void> => {
    const client = new pg.Client(session.config);
    const lost = new AbortController();
    client.on('error', (error) => lost.abort(error));
    client.on('end', () => lost.abort(new Error('the connection ended')));
    const gone = AbortSignal.any([lost.signal, stopping.signal]);
    /** Said (by the caller's warning) whenever the connection was lost, not only when a query failed. */
    const unlessLost = (): void => {
      if (lost.signal.aborted && !stopping.signal.aborted) throw lost.signal.reason;
    };
    try {
      await client.connect();
      let standby = false;
      while (!gone.aborted) {
        const { rows } = await client.query<{ won: boolean }>('select pg_try_advisory_lock($1, $2) as won', [lock.classId, lock.objectId]);
        if (rows[0]?.won) break;
        if (!standby) log.info('another process leads; standing by');
        standby = true;
        onStandby();
        await sleep(intervalMs, gone);
      }
      unlessLost();
      if (gone.aborted) return;
      log.info('won the lock; starting the role');
      let led: Led;
      try {
        led = await lead();
      } catch (error) {
        // Ending the connection (finally, below) lets the lock go to a standby meanwhile.
        log.error({ err: error }, 'the role failed to start; releasing the lock and trying again');
        return;
      }
      try {
        if (!gone.aborted) {
          leading = true;
          log.info('leading');
        }
        // A query on the lock's own connection is how a lost session shows.
        while (!gone.aborted) {
          await sleep(intervalMs, gone);
          if (!gone.aborted) await client.query('select 1');
        }
        unlessLost();
      } finally {
        leading = false;
        await led.stop();
      }
    } finally {
      // With a check still waiting for its answer, pg destroys the socket rather than wait for a goodbye.
      await client.end().catch(() => undefined);
    }
  };

  const running = (async () => {
    while (!stopping.signal.aborted) {
      await holdOnce().catch((error: unknown) => {
        if (!stopping.signal.aborted) log.warn({ err: error }, 'lost the connection that holds or waits for the lock; trying again');
      });
      if (!stopping.signal.aborted) await sleep(intervalMs, stopping.signal);
    }
  })();

  return {
    isLeader: () => leading,
    async stop() {
      stopping.abort();
      await running;
    },
  };
};
