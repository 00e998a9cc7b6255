import { expect } from 'chai';
import type { Knex } from 'knex';
import { checkpointMigrations } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createStatusBoard, readSubscriberStatus, type StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('subscriber status board', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let knex: Knex;
  let board: StatusBoard;
  before(async () => {
    database = await createTestDatabase();
    knex = createKnex({ url: database.url, max: 5 });
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
  });
  beforeEach(() => {
    // No heartbeat during a test: every write comes from a change.
    board = createStatusBoard({ knex, logger: silentLogger, heartbeatMs: 60_000 });
  });
  afterEach(async () => {
    await board?.close();
    await knex.raw('drop trigger if exists slow_delete on tally_subscriber_status');
  });
  after(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  const rowOf = async (subscriber: string) => (await readSubscriberStatus(knex, 60_000)).find((row) => row.subscriber === subscriber && row.instance === board.instance);

  it('keeps the row of a subscriber tracked again at once, though the delete of its old row is slow', async () => {
    const old = board.track('projection:again', () => undefined, 'standby');
    const before = await until('the standby row is written', () => rowOf('projection:again'), { ok: (row) => row?.state === 'standby', timeoutMs: 5000 });
    // A delete that takes a while before it finds its row: written on its own, it would land after the new row and erase it.
    await knex.raw(`
      create or replace function tally_test_slow_delete() returns trigger language plpgsql as $$ begin perform pg_sleep(0.3); return null; end $$;
      create trigger slow_delete before delete on tally_subscriber_status for each statement execute function tally_test_slow_delete();
    `);
    old.untrack();
    const taken = board.track('projection:again', () => undefined);
    taken.failing(new Error('still here'), undefined);
    const after = await until('the new row is written', () => rowOf('projection:again'), { ok: (row) => row?.state === 'failing', timeoutMs: 5000 });
    await pause(600);
    expect(await rowOf('projection:again')).to.deep.include({ state: 'failing', error: 'still here' });
    // A new row, not the standby's merged: it took the subscriber on later.
    expect(after!.trackedAt.getTime()).to.be.above(before!.trackedAt.getTime());
    // An untracker that is not the current one deletes nothing.
    old.untrack();
    await pause(100);
    expect(await rowOf('projection:again')).to.deep.include({ state: 'failing' });
    taken.untrack();
    await until('the row is deleted', () => rowOf('projection:again'), { ok: (row) => row === undefined, timeoutMs: 5000 });
  });

  it('writes a standby as standby from its first row', async () => {
    await knex.raw(`
      create table if not exists written_states (subscriber text, state text);
      create or replace function tally_test_written() returns trigger language plpgsql as $$
        begin insert into written_states values (new.subscriber, new.state); return new; end $$;
      create or replace trigger written after insert or update on tally_subscriber_status for each row execute function tally_test_written();
    `);
    try {
      board.track('projection:waiting', () => undefined, 'standby');
      await until('the row is written', () => rowOf('projection:waiting'), { ok: (row) => row !== undefined, timeoutMs: 5000 });
      await pause(100);
      const written = await knex('written_states').where({ subscriber: 'projection:waiting' }).pluck('state');
      expect(written.length).to.be.above(0);
      expect([...new Set(written)]).to.deep.equal(['standby']);
    } finally {
      await knex.raw('drop trigger written on tally_subscriber_status');
    }
  });

  it('leaves no row behind once closed', async () => {
    const tracker = board.track('projection:closing', () => undefined);
    await until('the row is written', () => rowOf('projection:closing'), { ok: (row) => row !== undefined, timeoutMs: 5000 });
    tracker.failing(new Error('a last change, written while closing'), undefined);
    await board.close();
    await pause(100);
    expect(await rowOf('projection:closing')).to.equal(undefined);
  });
});
