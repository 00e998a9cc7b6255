import type { Knex } from 'knex';

/** A write a batch makes: an INSERT, UPDATE or upsert, as a builder or raw SQL. */
export type Write = Knex.QueryBuilder | Knex.Raw;

/**
 * Sends a batch's writes as one statement (data-modifying CTEs): a round trip
 * and a statement per batch, however many tables the batch touches. They all
 * see the database as it was before the statement, so they must not touch the
 * same rows: each write covers rows no other write of the batch does.
 */
export const writeTogether = async (trx: Knex.Transaction, writes: readonly Write[]): Promise<void> => {
  if (writes.length === 0) return;
  if (writes.length === 1) return void (await writes[0]!);
  await trx.raw(`with ${writes.map((_, index) => `w${index} as (?)`).join(', ')} select 1`, [...writes]);
};
