import type { Knex } from 'knex';
import type { Migration } from './migrate.ts';

/**
 * A subscriber's state as it stood at a position of the log (the rule
 * engine's rule book), so that a restart folds only what came after it
 * instead of the whole log. One row per subscriber: the newest replaces the
 * one before.
 */
export interface StoredSnapshot {
  readonly position: string;
  /** The format of `state`, as its owner numbers them: a reader ignores a version it does not write. */
  readonly version: number;
  readonly state: unknown;
  readonly takenAt: Date;
}

export interface SnapshotToSave {
  readonly position: string;
  readonly version: number;
  /** Plain data; stored as its JSON text. */
  readonly state: object;
}

export interface Snapshots {
  load(name: string): Promise<StoredSnapshot | undefined>;
  /**
   * Replaces the subscriber's snapshot. `alongside` writes in the same
   * transaction (the checkpoint that goes with it): both are saved, or neither.
   */
  save(name: string, snapshot: SnapshotToSave, alongside?: (trx: Knex.Transaction) => Promise<void>): Promise<void>;
}

export const snapshotsMigration: Migration = {
  name: '005_snapshots',
  up: async (knex) => {
    await knex.schema.createTable('tally_snapshots', (table) => {
      table.text('name').primary();
      table.text('position').notNullable();
      table.integer('version').notNullable();
      // json, not jsonb: the text is kept as written, so key order (which condition `explain` names first) and numbers come back as they were.
      table.json('state').notNullable();
      table.timestamp('taken_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  },
  down: (knex) => knex.schema.dropTable('tally_snapshots'),
};

export const createSnapshots = (knex: Knex): Snapshots => ({
  load: async (name) => {
    const row = await knex('tally_snapshots').where({ name }).first<{ position: string; version: number; state: unknown; taken_at: Date } | undefined>('position', 'version', 'state', 'taken_at');
    return row && { position: row.position, version: row.version, state: row.state, takenAt: row.taken_at };
  },
  save: async (name, { position, version, state }, alongside) => {
    const text = JSON.stringify(state);
    await knex.transaction(async (trx) => {
      await trx('tally_snapshots')
        .insert({ name, position, version, state: text, taken_at: knex.fn.now() })
        .onConflict('name')
        .merge(['position', 'version', 'state', 'taken_at']);
      await alongside?.(trx);
    });
  },
});
