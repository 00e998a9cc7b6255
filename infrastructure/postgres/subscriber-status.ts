import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { errorText } from '../error-text.ts';
import { isAtOrAfter } from '../event-store/event-store.ts';
import type { Logger } from '../logger.ts';
import type { Migration } from './migrate.ts';

/**
 * What each subscriber (a projection, the rule engine) is doing, in every
 * process that runs one, kept in PostgreSQL so that `/health` of any process
 * can tell: stuck work is never silent (DESIGN §6). Each process writes its own
 * rows and refreshes them with a heartbeat; a row whose heartbeat stops is a
 * process that is gone.
 */
export type SubscriberState = 'catching-up' | 'running' | 'standby' | 'failing';

export interface SubscriberStatus {
  readonly subscriber: string;
  readonly instance: string;
  readonly state: SubscriberState;
  /** How far it has handled the log. */
  readonly position: string | null;
  readonly error: string | null;
  /**
   * While failing, the position of the event it cannot get past: the event
   * that failed where the worker can tell (the rule engine: the event it
   * cannot decide, or the first whose appends fail; a projection, once it
   * retries its batch one event at a time), else the first event of the batch
   * that failed (a projection's first attempt at it, or a failure outside the
   * events: its database down, its checkpoint not saved).
   */
  readonly stuckAt: string | null;
  /** When it entered its state. */
  readonly since: Date;
  /** When this instance took the subscriber on (an active one: after it won the election), by the database's clock. */
  readonly trackedAt: Date;
  readonly heartbeatAt: Date;
}

export const subscriberStatusMigration: Migration = {
  name: '003_subscriber_status',
  up: async (knex) => {
    await knex.schema.createTable('tally_subscriber_status', (t) => {
      t.text('subscriber').notNullable();
      t.text('instance').notNullable();
      t.text('state').notNullable();
      t.text('position');
      t.text('error');
      t.text('stuck_at');
      t.timestamp('since', { useTz: true }).notNullable();
      t.timestamp('heartbeat_at', { useTz: true }).notNullable();
      t.primary(['subscriber', 'instance']);
    });
  },
  down: (knex) => knex.schema.dropTable('tally_subscriber_status'),
};

export const subscriberTrackedAtMigration: Migration = {
  name: '004_subscriber_status_tracked_at',
  // A default, so that a process of the release before, which does not write it, can still insert its rows.
  up: (knex) => knex.raw('alter table tally_subscriber_status add column tracked_at timestamptz not null default now()'),
  down: (knex) => knex.raw('alter table tally_subscriber_status drop column tracked_at'),
};

/** One subscriber's reports, from the worker that runs it. */
export interface SubscriberTracker {
  /** It handled the log up to `position`: running once it reached where the log ended when it started. */
  progressed(): void;
  /** It cannot get past `stuckAt`, and is retrying. */
  failing(error: unknown, stuckAt: string | undefined): void;
  /** Where the log ended when it started (undefined: the log was empty). */
  caughtUpAt(position: string | undefined): void;
  untrack(): void;
}

export interface StatusBoard {
  readonly instance: string;
  /**
   * `position` is read at each heartbeat: how far the subscriber has handled
   * the log. `standby`: another process leads, this one waits to take over.
   */
  track(subscriber: string, position: () => string | undefined, initial?: 'catching-up' | 'standby'): SubscriberTracker;
  close(): Promise<void>;
}

interface Row {
  state: SubscriberState;
  error: string | null;
  stuckAt: string | null;
  since: Date;
  position: () => string | undefined;
  /** Looks at the position again: a filtered subscriber moves on without events to handle. */
  refresh: () => void;
}

const describe = (error: unknown): string => errorText(error).slice(0, 500);

export const createStatusBoard = ({ knex, logger, heartbeatMs = 2000 }: { knex: Knex; logger: Logger; heartbeatMs?: number }): StatusBoard => {
  const instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const rows = new Map<string, Row>();
  /** Untracked (and maybe tracked again since), their rows not deleted yet. */
  const untracked = new Set<string>();
  let flushing: Promise<void> | undefined;
  let again = false;
  let closed = false;

  /**
   * Deletes go through here too, in one transaction with the rows: a delete
   * sent on its own could land after the insert of the same subscriber tracked
   * again at once (a standby that takes over), and erase the new row. Tracked
   * again, its row is deleted still, and inserted anew.
   */
  const write = async (): Promise<void> => {
    const gone = [...untracked];
    untracked.clear();
    for (const row of rows.values()) row.refresh();
    const current = [...rows].map(([subscriber, row]) => ({
      subscriber, instance, state: row.state, position: row.position() ?? null, error: row.error, stuck_at: row.stuckAt,
      since: row.since, heartbeat_at: knex.fn.now(),
    }));
    if (gone.length === 0 && current.length === 0) return;
    const upsert = (db: Knex) =>
      db('tally_subscriber_status')
        .insert(current)
        .onConflict(['subscriber', 'instance'])
        // tracked_at stays as the insert set it: the database's clock, the same for every process.
        .merge(['state', 'position', 'error', 'stuck_at', 'since', 'heartbeat_at']);
    // The usual heartbeat is the upsert alone; a transaction only when rows go too.
    if (gone.length === 0) return void (await upsert(knex));
    try {
      await knex.transaction(async (trx) => {
        await trx('tally_subscriber_status').where({ instance }).whereIn('subscriber', gone).delete();
        if (current.length > 0) await upsert(trx);
      });
    } catch (error) {
      for (const subscriber of gone) untracked.add(subscriber);
      throw error;
    }
  };
  /** At most one write in flight; a change during it makes one more. */
  const flush = (): void => {
    if (closed) return;
    if (flushing) return void (again = true);
    // Set before write runs: a change it makes (a refresh) asks for one more, not a second one at once.
    flushing = Promise.resolve()
      .then(write)
      .catch((error: unknown) => logger.debug({ err: error }, 'could not write subscriber status; the next heartbeat tries again'))
      .finally(() => {
        flushing = undefined;
        if (again) {
          again = false;
          flush();
        }
      });
  };
  const timer = setInterval(flush, heartbeatMs);
  timer.unref();

  const change = (row: Row, state: SubscriberState, error: string | null = null, stuckAt: string | null = null): void => {
    if (row.state !== state) row.since = new Date();
    const changed = row.state !== state || row.error !== error || row.stuckAt !== stuckAt;
    Object.assign(row, { state, error, stuckAt });
    if (changed) flush();
  };

  return {
    instance,
    track(subscriber, position, initial = 'catching-up') {
      let target: string | undefined | null = null; // null: not known yet
      let caughtUp = false;
      const settle = (): void => {
        caughtUp ||= target === undefined || (target !== null && isAtOrAfter(position(), target));
        change(row, caughtUp ? 'running' : 'catching-up');
      };
      const row: Row = {
        state: initial, error: null, stuckAt: null, since: new Date(), position,
        refresh: () => {
          if (row.state === 'catching-up') settle();
        },
      };
      // Tracked again: a new row, with a new tracked_at.
      if (rows.has(subscriber)) untracked.add(subscriber);
      rows.set(subscriber, row);
      flush();
      return {
        progressed: settle,
        failing: (error, stuckAt) => change(row, 'failing', describe(error), stuckAt ?? null),
        caughtUpAt(head) {
          target = head;
          settle();
        },
        untrack() {
          // Only its own row: the subscriber may be tracked again already.
          if (rows.get(subscriber) !== row) return;
          rows.delete(subscriber);
          untracked.add(subscriber);
          flush();
        },
      };
    },
    async close() {
      clearInterval(timer);
      closed = true;
      rows.clear();
      untracked.clear();
      await flushing;
      await knex('tally_subscriber_status').where({ instance }).delete().catch(() => undefined);
    },
  };
};

/** Every row refreshed within `freshMs`: the processes that are still there. */
export const readSubscriberStatus = async (knex: Knex, freshMs: number): Promise<SubscriberStatus[]> => {
  const rows = await knex('tally_subscriber_status')
    .where('heartbeat_at', '>', knex.raw(`now() - make_interval(secs => ?)`, [freshMs / 1000]))
    .select<{ subscriber: string; instance: string; state: SubscriberState; position: string | null; error: string | null; stuck_at: string | null; since: Date; tracked_at: Date; heartbeat_at: Date }[]>();
  return rows.map((row) => ({
    subscriber: row.subscriber, instance: row.instance, state: row.state, position: row.position, error: row.error,
    stuckAt: row.stuck_at, since: row.since, trackedAt: row.tracked_at, heartbeatAt: row.heartbeat_at,
  }));
};
