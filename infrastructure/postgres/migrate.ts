import type { Knex } from 'knex';

export interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Each layer owns its migrations and its own bookkeeping table, so the event
 * store and the read models can live in different databases and be migrated
 * by different roles. Sources are lists of modules, not folders: nothing is
 * loaded by file name at run time.
 */
export const migrate = async (knex: Knex, tableName: string, migrations: readonly Migration[]): Promise<void> => {
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => [...migrations],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => migration,
  };
  await knex.migrate.latest({ migrationSource: source, tableName });
};
