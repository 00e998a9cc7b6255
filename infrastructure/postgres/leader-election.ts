import pg from 'pg';
import type { DatabaseTimeouts } from '../config.ts';
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
  isLeader(): boolean;
  stop(): Promise<void>;
}

/**
 * Runs `lead` while this process holds the role's lock, on a connection of
 * its own: PostgreSQL releases a session lock when the session ends, so a
 * leader that dies (kill -9, a lost machine once keepalive gives up) hands
 * over to a standby within about `intervalMs`. A leader whose lock connection
 * fails stops the role at once, since another process may take over.
 */
export const runElection = ({ url, timeouts, role, logger, intervalMs = 1000, onStandby, lead }: ElectionOptions): Election => {
  const log = logger.child({ election: role });
  const stopping = new AbortController();
  const lock = LEADER_LOCKS[role];
  let leading = false;

  const holdOnce = async (): Promise<void> => {
    const client = new pg.Client(connectionConfig(url, timeouts));
    const lost = new AbortController();
    client.on('error', () => lost.abort());
    client.on('end', () => lost.abort());
    const gone = AbortSignal.any([lost.signal, stopping.signal]);
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
      if (gone.aborted) return;
      log.info('leading');
      leading = true;
      const led = await lead();
      try {
        // A query on the lock's own connection is how a lost session shows.
        while (!gone.aborted) {
          await sleep(intervalMs, gone);
          if (!gone.aborted) await client.query('select 1');
        }
      } finally {
        leading = false;
        await led.stop();
      }
    } finally {
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
