import type { Knex } from 'knex';
import type { Migration } from './migrate.ts';
import { snapshotsMigration } from './snapshots.ts';
import { subscriberStatusMigration, subscriberTrackedAtMigration } from './subscriber-status.ts';

/**
 * Where each subscriber (a projection, a reactor) got to in the log. A
 * projection writes its checkpoint in the same transaction as the rows it
 * covers, after locking it there (`lock`); a reactor, whose effects are
 * idempotent appends, after them.
 */
export interface Checkpoints {
  load(name: string): Promise<string | undefined>;
  /**
   * Reads the checkpoint and locks it until `trx` ends: a batch applies only
   * what lies after it, so a retried or concurrent batch applies nothing twice.
   */
  lock(name: string, trx: Knex.Transaction): Promise<string | undefined>;
  save(name: string, position: string, trx?: Knex.Transaction): Promise<void>;
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
  lock: async (name, trx) => {
    // One round trip: the no-op update takes the row lock and returns the row as it is.
    const { rows } = await trx.raw<{ rows: { position: string | null }[] }>(
      `insert into tally_checkpoints (name, position) values (?, null)
       on conflict (name) do update set name = excluded.name returning position`,
      [name],
    );
    return rows[0]?.position ?? undefined;
  },
  save: async (name, position, trx) => {
    await (trx ?? knex)('tally_checkpoints')
      .insert({ name, position, updated_at: knex.fn.now() })
      .onConflict('name')
      .merge(['position', 'updated_at']);
  },
});
