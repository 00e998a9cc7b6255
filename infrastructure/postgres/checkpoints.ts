import type { Knex } from 'knex';
import type { Migration } from './migrate.ts';

/**
 * Where each subscriber (a projection, a reactor) got to in the log. A
 * projection writes its checkpoint in the same transaction as the rows it
 * covers; a reactor, whose effects are idempotent appends, after them.
 */
export interface Checkpoints {
  load(name: string): Promise<string | undefined>;
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
];

export const createCheckpoints = (knex: Knex): Checkpoints => ({
  load: async (name) => (await knex('tally_checkpoints').where({ name }).first<{ position: string } | undefined>('position'))?.position,
  save: async (name, position, trx) => {
    await (trx ?? knex)('tally_checkpoints')
      .insert({ name, position, updated_at: knex.fn.now() })
      .onConflict('name')
      .merge(['position', 'updated_at']);
  },
});
