import { setMaxListeners } from 'node:events';
import { expect } from 'chai';
import { checkpointMigrations } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { listenToChannel } from '../../infrastructure/postgres/notifications.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../../projections/migrations.ts';
import { READ_MODELS_CHANNEL } from '../../projections/read-models-channel.ts';
import { createDecisionWaiters } from '../../read-api/decision-waiters.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Long-polls share one query per read-model commit, however many wait. */
describe('decision waiters', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('wake a thousand long-polls with one query per commit, each when its own event is decided', async () => {
    const knex = createKnex({ url: database.url, max: 5 });
    const changes = listenToChannel(database.url, READ_MODELS_CHANNEL);
    try {
      await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
      const waiters = 1000;
      const ids = Array.from({ length: waiters }, (_, n) => `e-${n}`);
      await knex('rm_tracked_events').insert(ids.map((id) => ({ id, occurred_at: new Date(), registered_at: new Date(), document: '{}', status: 'pending', position: '0' })));
      await changes.wait(2000, undefined, -1); // listening
      let looks = 0;
      knex.on('query', ({ sql }: { sql: string }) => void (sql.includes('rm_tracked_events') && looks++));
      const decisions = createDecisionWaiters(knex, changes);
      const gone = new AbortController();
      setMaxListeners(0, gone.signal); // one request each, in the API; here all share one
      const woken = new Set<string>();
      const waiting = ids.map((id) => decisions.waitFor(id, 20_000, gone.signal, changes.generation()).then(() => woken.add(id)));
      // Ten commits, each deciding a tenth of the events.
      for (let commit = 0; commit < 10; commit++) {
        await knex.transaction(async (trx) => {
          await trx('rm_tracked_events').whereIn('id', ids.slice(commit * 100, commit * 100 + 100)).update({ status: 'processed' });
          await trx.raw('select pg_notify(?, ?)', [READ_MODELS_CHANNEL, 'tracked-events']);
        });
        for (let waited = 0; woken.size < (commit + 1) * 100 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(woken.size).to.equal((commit + 1) * 100);
      }
      await Promise.all(waiting);
      // About one look per commit (a notification may come in while a look runs: one more).
      expect(looks).to.be.at.most(20);
    } finally {
      await changes.close();
      await knex.destroy();
    }
  });
});
