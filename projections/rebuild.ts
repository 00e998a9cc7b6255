import type { Knex } from 'knex';
import type { EventStore, RecordedEvent } from '../infrastructure/event-store/event-store.ts';
import { READ_MODELS_CHANNEL } from './read-models-channel.ts';
import type { Projection } from './projection.ts';
import { projectionCheckpoint } from './projector.ts';

export interface RebuildProgress {
  /** Events of the log read so far, and in all when the rebuild began (more may come; the swap takes them in). */
  readonly read: number;
  readonly total: number;
  readonly phase: 'building' | 'swapping' | 'done';
}

export interface RebuildOptions {
  readonly knex: Knex;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Events read from the log at a time. */
  readonly pageSize?: number;
}

/** Where a projection is rebuilt: a schema of its own, whose tables shadow the live ones for the rebuild's statements only. */
export const rebuildSchema = (projection: Projection): string => `tally_rebuild_${projection.name.replace(/[^a-z0-9]/g, '_')}`;

/**
 * DESIGN §6, blue/green: builds a projection's tables afresh from position
 * zero, then swaps them in. The new tables live in a schema of their own,
 * created `like` the live ones, and the projection's own code writes them
 * unchanged: each batch runs with that schema first on its `search_path`.
 * Meanwhile the live tables serve reads and the live projector keeps them
 * current. The swap is one transaction: it locks the projection's checkpoint
 * (the live projector's next batch waits there, and afterwards finds its
 * events covered and applies nothing), folds what came since the build read
 * the log, drops the live tables, moves the new ones into their place, and
 * sets the checkpoint where they stand; readers wait for the commit, then see
 * the new tables. A rebuild that stops midway leaves the live tables as they
 * were; the next one starts over.
 */
export const rebuildProjection = async ({ knex, store, projection, onProgress, pageSize = 1000 }: RebuildOptions): Promise<void> => {
  const schema = rebuildSchema(projection);
  const mine = (events: readonly RecordedEvent[]) => events.filter((event) => projection.eventTypes.includes(event.type));
  const applyIn = async (trx: Knex.Transaction, events: readonly RecordedEvent[]) => {
    // `set local`: for this transaction only, so the live tables stay what every other statement sees.
    await trx.raw(`set local search_path to ${schema}, public`);
    await projection.applyBatch(trx, events);
  };
  const readPage = async (after: string | undefined): Promise<RecordedEvent[]> => {
    const page: RecordedEvent[] = [];
    for await (const event of store.readAll({ fromPosition: after, maxCount: pageSize })) page.push(event);
    return page;
  };

  await knex.raw(`drop schema if exists ${schema} cascade`);
  await knex.raw(`create schema ${schema}`);
  try {
    for (const table of projection.tables) await knex.raw(`create table ${schema}.${table} (like public.${table} including all)`);
    const { events: total } = await store.countAfter(undefined, Number.MAX_SAFE_INTEGER);
    let position: string | undefined;
    let read = 0;
    for (let page = await readPage(position); page.length > 0; page = await readPage(position)) {
      const events = mine(page);
      if (events.length > 0) await knex.transaction((trx) => applyIn(trx, events));
      position = page[page.length - 1]!.position;
      read += page.length;
      onProgress?.({ read, total, phase: 'building' });
    }

    onProgress?.({ read, total, phase: 'swapping' });
    const checkpoint = projectionCheckpoint(projection);
    await knex.transaction(async (trx) => {
      await trx.raw('insert into tally_checkpoints (name, position) values (?, null) on conflict (name) do nothing', [checkpoint]);
      await trx.raw('select position from tally_checkpoints where name = ? for update', [checkpoint]);
      for (let page = await readPage(position); page.length > 0; page = await readPage(position)) {
        const events = mine(page);
        if (events.length > 0) await applyIn(trx, events);
        position = page[page.length - 1]!.position;
        read += page.length;
      }
      await trx.raw('set local search_path to public');
      for (const table of projection.tables) {
        await trx.raw(`drop table public.${table}`);
        await trx.raw(`alter table ${schema}.${table} set schema public`);
      }
      await trx.raw('update tally_checkpoints set position = ?, updated_at = now() where name = ?', [position ?? null, checkpoint]);
      // As a projector's commit would: long-polls and read-your-writes look again.
      await trx.raw('select pg_notify(?, ?)', [READ_MODELS_CHANNEL, projection.name]);
    });
    onProgress?.({ read, total, phase: 'done' });
  } finally {
    await knex.raw(`drop schema if exists ${schema} cascade`);
  }
};
