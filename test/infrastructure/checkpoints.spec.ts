import { expect } from 'chai';
import type { Knex } from 'knex';
import { checkpointMigrations, createCheckpoints, type Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { listenToChannel } from '../../infrastructure/postgres/notifications.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

describe('checkpoints', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let knex: Knex;
  let checkpoints: Checkpoints;
  const announce = { channel: 'checkpoint_spec', payload: 'moved' };
  before(async () => {
    database = await createTestDatabase();
    knex = createKnex({ url: database.url, max: 4 });
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
    checkpoints = createCheckpoints(knex);
  });
  after(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  it('saves forwards only: a late save of an older position leaves it where it is', async () => {
    await checkpoints.save('s', '00000000000000000009:00000000000000000001');
    await checkpoints.save('s', '00000000000000000010:00000000000000000002');
    await checkpoints.save('s', '00000000000000000009:00000000000000000003');
    expect(await checkpoints.load('s')).to.equal('00000000000000000010:00000000000000000002');
    await checkpoints.save('s', '00000000000000000010:00000000000000000002');
    expect(await checkpoints.load('s')).to.equal('00000000000000000010:00000000000000000002');
  });

  it('creates the row on the first advance, and returns where each advance found it', async () => {
    expect(await knex.transaction((trx) => checkpoints.advance('a', 'p1', trx, announce))).to.equal(undefined);
    expect(await knex.transaction((trx) => checkpoints.advance('a', 'p2', trx, announce))).to.equal('p1');
    expect(await checkpoints.load('a')).to.equal('p2');
  });

  it('moves nothing when its transaction rolls back', async () => {
    await checkpoints.save('b', 'p1');
    await knex
      .transaction(async (trx) => {
        await checkpoints.advance('b', 'p2', trx, announce);
        throw new Error('the batch failed');
      })
      .catch(() => undefined);
    expect(await checkpoints.load('b')).to.equal('p1');
  });

  it('holds the row until commit: a second advance waits, then finds the first one’s position', async () => {
    await checkpoints.save('c', 'p1');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstDone = false;
    const first = knex.transaction(async (trx) => {
      await checkpoints.advance('c', 'p2', trx, announce);
      await held;
      firstDone = true;
    });
    const locked = () =>
      knex.transaction((trx) => trx.raw(`select 1 from tally_checkpoints where name = 'c' for update nowait`)).then(
        () => false,
        (error: { code?: string }) => error.code === '55P03',
      );
    await until('the first advance holds the row', locked, { timeoutMs: 5000, intervalMs: 10 });
    const second = knex.transaction(async (trx) => {
      const found = await checkpoints.advance('c', 'p3', trx, announce);
      return { found, afterFirst: firstDone };
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await first;
    expect(await second).to.deep.equal({ found: 'p2', afterFirst: true });
    expect(await checkpoints.load('c')).to.equal('p3');
  });

  it('announces on commit, and not on rollback', async () => {
    const listener = listenToChannel(database.url, announce.channel);
    try {
      // Listening once the first (reconnect) wake-up has come.
      await until('listening', async () => listener.generation() > 0, { timeoutMs: 5000, intervalMs: 10 });
      const before = listener.generation();
      await knex.transaction((trx) => checkpoints.advance('d', 'p1', trx, announce).then(() => Promise.reject(new Error('rolled back')))).catch(() => undefined);
      await knex.transaction((trx) => checkpoints.advance('d', 'p2', trx, announce));
      await until('the commit is announced', async () => listener.generation() > before, { timeoutMs: 5000, intervalMs: 10 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(listener.generation()).to.equal(before + 1);
    } finally {
      await listener.close();
    }
  });
});
