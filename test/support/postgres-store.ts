import { eventStoreMigrations } from '../../infrastructure/event-store/postgres/schema.ts';
import { createPostgresEventStore } from '../../infrastructure/event-store/postgres/postgres-event-store.ts';
import { createKnex, createPool } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createTestDatabase } from './test-database.ts';

/** A PostgreSQL event store in a fresh database of its own; `stop` closes it and drops the database. */
export const createPostgresStoreForTest = async ({ tailCapacity }: { tailCapacity?: number } = {}) => {
  const database = await createTestDatabase();
  const knex = createKnex({ url: database.url, max: 2 });
  await migrate(knex, 'tally_event_store_migrations', eventStoreMigrations);
  await knex.destroy();
  const pool = createPool({ url: database.url, max: 20 });
  const store = createPostgresEventStore({ connectionString: database.url, pool, tailCapacity });
  return {
    database,
    pool,
    store,
    stop: async () => {
      await store.close();
      await pool.end();
      await database.drop();
    },
  };
};
