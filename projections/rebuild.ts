import type { Knex } from 'knex';
import pg from 'pg';
import { isAtOrAfter, type EventStore, type RecordedEvent } from '../infrastructure/event-store/event-store.ts';
import { connectionConfig } from '../infrastructure/postgres/database.ts';
import { MIGRATION_LOCK } from '../infrastructure/postgres/migration-lock.ts';
import { sleep } from '../infrastructure/sleep.ts';
import { READ_MODELS_CHANNEL } from './read-models-channel.ts';
import type { Projection } from './projection.ts';
import { projectionCheckpoint } from './projector.ts';

export interface RebuildProgress {
  /** Events of the log read so far, and up to the head as it stood when the rebuild began (the swap takes in what came after). */
  readonly read: number;
  readonly total: number;
  readonly phase: 'building' | 'catching up' | 'swapping' | 'done';
}

export interface RebuildOptions {
  readonly knex: Knex;
  /** For the session lock that keeps rebuilds one at a time, on a connection of its own. */
  readonly databaseUrl: string;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Events read from the log at a time. */
  readonly pageSize?: number;
  /** How long the swap waits for a table's readers before it lets go, and tries again; how many times. */
  readonly swapLockTimeoutMs?: number;
  readonly swapAttempts?: number;
}

/** Same class as the other advisory locks (migration-lock.ts), another object: one rebuild at a time per database. */
const REBUILD_LOCK = { classId: MIGRATION_LOCK.classId, objectId: 8 } as const;

/** Passes over what came during the build, outside the lock, before the swap takes in the rest under it. */
const CATCH_UP_PASSES = 3;

/** Where a projection is rebuilt: a schema of its own, which its tables are built in and nothing else reads. */
export const rebuildSchema = (projection: Projection): string => `tally_rebuild_${projection.name.replace(/[^a-z0-9]/g, '_')}`;

const quoted = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

/**
 * DESIGN §6, blue/green: builds a projection's tables afresh from position
 * zero, then swaps them in. The new tables live in a schema of their own,
 * created `like` the live ones, and the projection's own code writes them
 * unchanged: each batch runs with only that schema on its `search_path`, so a
 * table it lacks is an error, never the live one. Meanwhile the live tables
 * serve reads and the live projector keeps them current. The build reads the
 * log up to its head as it was at the start, then catches up a few times; the
 * swap is one transaction that locks the projection's checkpoint (the live
 * projector's next batch waits there, and afterwards finds its events covered
 * and applies nothing), folds the rest, drops the live tables, moves the new
 * ones into their place and sets the checkpoint where they stand. Readers wait
 * for its commit, then see the new tables. A swap that cannot get a table from
 * its readers in time lets go and tries again, the build kept. Rebuilds run one
 * at a time (a session advisory lock); one that stops midway leaves the live
 * tables as they were, and the next starts over.
 */
export const rebuildProjection = async ({
  knex, databaseUrl, store, projection, onProgress, pageSize = 1000, swapLockTimeoutMs = 2000, swapAttempts = 10,
}: RebuildOptions): Promise<void> => {
  const schema = quoted(rebuildSchema(projection));
  const lock = new pg.Client(connectionConfig(databaseUrl));
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    const { rows } = await lock.query<{ locked: boolean }>('select pg_try_advisory_lock($1, $2) as locked', [REBUILD_LOCK.classId, REBUILD_LOCK.objectId]);
    if (!rows[0]?.locked) throw new Error('another rebuild is running on this database; try again once it is done');
    await build();
  } finally {
    await lock.end().catch(() => undefined);
  }

  async function build(): Promise<void> {
    const mine = (events: readonly RecordedEvent[]) => events.filter((event) => projection.eventTypes.includes(event.type));
    const applyIn = async (trx: Knex.Transaction, events: readonly RecordedEvent[]) => {
      // `set local`: for this transaction only; and only the new schema, so that nothing of it can reach a live table.
      await trx.raw(`set local search_path to ${schema}`);
      await projection.applyBatch(trx, events);
    };
    let position: string | undefined;
    let read = 0;
    /** Reads and folds the log after `position`, up to `until` (or its end), a page per transaction unless `trx` is given. */
    const fold = async (until: string | undefined, phase: RebuildProgress['phase'], total: number, trx?: Knex.Transaction) => {
      for (;;) {
        const page: RecordedEvent[] = [];
        for await (const event of store.readAll({ fromPosition: position, maxCount: pageSize })) page.push(event);
        if (page.length === 0) return;
        const events = mine(page);
        if (events.length > 0) await (trx ? applyIn(trx, events) : knex.transaction((each) => applyIn(each, events)));
        position = page[page.length - 1]!.position;
        read += page.length;
        onProgress?.({ read, total: Math.max(total, read), phase });
        if (until !== undefined && isAtOrAfter(position, until)) return;
      }
    };

    await knex.raw(`drop schema if exists ${schema} cascade`);
    await knex.raw(`create schema ${schema}`);
    try {
      for (const table of projection.tables) await knex.raw(`create table ${schema}.${quoted(table)} (like public.${quoted(table)} including all)`);
      const head = await store.headPosition();
      const { events: total } = await store.countAfter(undefined, Number.MAX_SAFE_INTEGER);
      onProgress?.({ read, total, phase: 'building' });
      if (head !== undefined) await fold(head, 'building', total);
      for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
        const now = await store.headPosition();
        if (now === undefined || isAtOrAfter(position, now)) break;
        await fold(now, 'catching up', total);
      }
      for (let attempt = 1; ; attempt++) {
        onProgress?.({ read, total, phase: 'swapping' });
        try {
          await swap(fold, () => position, total);
          break;
        } catch (error) {
          // Readers held a table longer than the swap may wait (lock_timeout): let go of everything, wait, try again.
          if (!(error instanceof Error && /lock timeout/i.test(error.message)) || attempt >= swapAttempts) throw error;
          await sleep(Math.min(250 * attempt, 2000));
        }
      }
      onProgress?.({ read, total, phase: 'done' });
    } finally {
      await knex.raw(`drop schema if exists ${schema} cascade`);
    }
  }

  async function swap(
    fold: (until: string | undefined, phase: RebuildProgress['phase'], total: number, trx?: Knex.Transaction) => Promise<void>,
    position: () => string | undefined,
    total: number,
  ): Promise<void> {
    const checkpoint = projectionCheckpoint(projection);
    await knex.transaction(async (trx) => {
      await trx.raw(`set local lock_timeout = ${Math.max(1, Math.round(swapLockTimeoutMs))}`);
      // A migration that changes these tables must not run between the check below and the commit.
      await trx.raw('select pg_advisory_xact_lock(?, ?)', [MIGRATION_LOCK.classId, MIGRATION_LOCK.objectId]);
      await trx.raw('insert into tally_checkpoints (name, position) values (?, null) on conflict (name) do nothing', [checkpoint]);
      await trx.raw('select position from tally_checkpoints where name = ? for update', [checkpoint]);
      await fold(undefined, 'swapping', total, trx);
      await trx.raw('set local search_path to public');
      for (const table of projection.tables) {
        const columns = async (where: string) =>
          JSON.stringify((await trx.raw(
            `select column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position`,
            [where, table],
          )).rows);
        const [built, live] = [await columns(rebuildSchema(projection)), await columns('public')];
        if (built === '[]') throw new Error(`the rebuilt ${table} is gone (dropped by someone else): the live tables are left as they were`);
        if (built !== live) throw new Error(`a migration changed ${table} during the rebuild: run the rebuild again`);
        await trx.raw(`drop table public.${quoted(table)}`);
        await trx.raw(`alter table ${schema}.${quoted(table)} set schema public`);
        // Fresh tables have no statistics yet: the planner gets some at once.
        await trx.raw(`analyze public.${quoted(table)}`);
      }
      await trx.raw('update tally_checkpoints set position = ?, updated_at = now() where name = ?', [position() ?? null, checkpoint]);
      // As a projector's commit would: long-polls and read-your-writes look again.
      await trx.raw('select pg_notify(?, ?)', [READ_MODELS_CHANNEL, projection.name]);
    });
  }
};
