import type { Knex } from 'knex';
import type { Migration } from './migrate.ts';
import { snapshotsMigration } from './snapshots.ts';
import { subscriberStatusMigration, subscriberTrackedAtMigration } from './subscriber-status.ts';

/**
 * Where each subscriber (a projection, a reactor) got to in the log. A
 * projection moves its checkpoint in the same transaction as the rows it
 * covers, locking it there first (`advance`); a reactor, whose effects are
 * idempotent appends, after them.
 */
export interface Checkpoints {
  load(name: string): Promise<string | undefined>;
  /** Moves the checkpoint to `position` unless it is there or past it already: a stale leader's late save never moves it back. */
  save(name: string, position: string, trx?: Knex.Transaction): Promise<void>;
  /**
   * In one statement: locks the checkpoint until `trx` ends, moves it to
   * `position`, announces `payload` on `channel` at commit, and returns where
   * it was. The batch applies only what lies after that, so a retried or
   * concurrent batch applies nothing twice; the caller rolls `trx` back when
   * that already covers `position`, so the checkpoint never moves back.
   */
  advance(name: string, position: string, trx: Knex.Transaction, announce: { channel: string; payload: string }): Promise<string | undefined>;
}

export const checkpointMigrations: readonly Migration[] = [
  {
    name: '001_checkpoints',
    up: async (knex) => {
      await knex.schema.createTable('tally_checkpoints', (table) => {
        table.text('name').primary();
        table.text('position').notNullable();
        table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
    down: (knex) => knex.schema.dropTable('tally_checkpoints'),
  },
  {
    // A checkpoint row exists before its first batch, so that the first batch can lock it too.
    name: '002_checkpoint_may_be_empty',
    up: (knex) => knex.raw('alter table tally_checkpoints alter column position drop not null'),
    down: (knex) => knex.raw('alter table tally_checkpoints alter column position set not null'),
  },
  subscriberStatusMigration,
  subscriberTrackedAtMigration,
  snapshotsMigration,
];

export const createCheckpoints = (knex: Knex): Checkpoints => ({
  load: async (name) => (await knex('tally_checkpoints').where({ name }).first<{ position: string | null } | undefined>('position'))?.position ?? undefined,
  advance: async (name, position, trx, { channel, payload }) => {
    // The subquery takes the row lock first, so `previous` is the position as the lock found it.
    const moved = async () =>
      (
        await trx.raw<{ rows: { previous: string | null }[] }>(
          `update tally_checkpoints c set position = ?, updated_at = now()
             from (select name, position from tally_checkpoints where name = ? for update) previous
            where c.name = previous.name
          returning previous.position as previous, pg_notify(?, ?)`,
          [position, name, channel, payload],
        )
      ).rows;
    let rows = await moved();
    if (rows.length === 0) {
      // The first batch of a new subscriber: create the row, then take it as any other batch does.
      await trx.raw('insert into tally_checkpoints (name, position) values (?, null) on conflict (name) do nothing', [name]);
      rows = await moved();
    }
    return rows[0]?.previous ?? undefined;
  },
  save: async (name, position, trx) => {
    // Positions of both stores are zero-padded to compare as strings (bytewise: collate "C").
    await (trx ?? knex).raw(
      `insert into tally_checkpoints (name, position) values (?, ?)
       on conflict (name) do update set position = excluded.position, updated_at = now()
        where tally_checkpoints.position is null or tally_checkpoints.position collate "C" < excluded.position collate "C"`,
      [name, position],
    );
  },
});
