import { expect } from 'chai';
import type { Knex } from 'knex';
import { checkpointMigrations, createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createSnapshots } from '../../infrastructure/postgres/snapshots.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('snapshots', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let knex: Knex;
  before(async () => {
    database = await createTestDatabase();
    knex = createKnex({ url: database.url, max: 3 });
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
  });
  after(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  it('keeps the newest snapshot per name, its JSON text as written', async () => {
    const snapshots = createSnapshots(knex);
    // Keys in an order jsonb would change, and numbers that must come back as they were.
    const state = { zeta: 1, a: { '~/': 0.07, b: 999_999_999_999_999 }, list: [[`__proto__`, 3]] };
    await snapshots.save('s', { position: 'p1', version: 1, state: { old: true } });
    await snapshots.save('s', { position: 'p2', version: 2, state });
    const loaded = await snapshots.load('s');
    expect(loaded).to.deep.include({ position: 'p2', version: 2 });
    expect(JSON.stringify(loaded?.state)).to.equal(JSON.stringify(state));
    expect(await snapshots.load('other')).to.equal(undefined);
  });

  it('saves the snapshot and what goes with it in one transaction: both or neither', async () => {
    const snapshots = createSnapshots(knex);
    const checkpoints = createCheckpoints(knex);
    await snapshots.save('t', { position: 'p1', version: 1, state: {} }, (trx) => checkpoints.save('t', 'p1', trx));
    // The checkpoint is written, then the transaction fails: the snapshot is not saved either.
    const failing = snapshots.save('t', { position: 'p2', version: 1, state: {} }, async (trx) => {
      await checkpoints.save('t', 'p2', trx);
      throw new Error('lost');
    });
    await failing.then(() => expect.fail('saved'), (error: Error) => expect(error.message).to.equal('lost'));
    expect((await snapshots.load('t'))?.position).to.equal('p1');
    expect(await checkpoints.load('t')).to.equal('p1');
  });
});
