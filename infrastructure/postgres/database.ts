import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// bigint columns (int8) come back as strings by default; positions and
// revisions stay strings/bigints on purpose, but counts and sums are safe
// numbers in this product, so nothing is changed globally here.

export const createPool = (connectionString: string, max = 10): pg.Pool => {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client losing its server (restart, failover) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', () => undefined);
  return pool;
};

export const createKnex = (connectionString: string, max = 10): Knex =>
  knexFactory({ client: 'pg', connection: connectionString, pool: { min: 0, max } });
