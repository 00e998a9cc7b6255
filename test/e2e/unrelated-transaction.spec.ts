import { expect } from 'chai';
import pg from 'pg';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/**
 * A session idle in transaction in another database of the cluster (with a
 * transaction id, as after any write) used to stall every subscriber for as
 * long as it stayed open. Only appenders may hold subscribers back.
 */
describe('a long transaction elsewhere in the cluster', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let elsewhere: TestDatabase;
  let idle: pg.Client;

  before(async () => {
    database = await createTestDatabase();
    elsewhere = await createTestDatabase();
  });
  after(async () => {
    await idle?.end().catch(() => undefined);
    await elsewhere?.drop();
    await database?.drop();
  });

  it('does not delay decisions: tracked events are decided and visible in well under a second', async () => {
    const app = await runTally(database.url);
    try {
      const campaign = await app.commands.post('/campaigns', { name: 'Busy cluster' });
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
      const warmUp = await app.commands.post('/events', { merchantId: 'M-1', customerId: 'C-0' });
      expect((await app.queries.get(`/events/${warmUp.body.id}?wait=10`)).body.status).to.equal('processed');

      idle = new pg.Client({ connectionString: elsewhere.url });
      await idle.connect();
      await idle.query('begin');
      await idle.query('select pg_current_xact_id()');
      const latencies: number[] = [];
      for (let n = 1; n <= 5; n++) {
        const began = Date.now();
        const registered = await app.commands.post('/events', { merchantId: 'M-1', customerId: `C-${n}` });
        const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
        latencies.push(Date.now() - began);
        expect(decided.body.status).to.equal('processed');
        expect(decided.body.earnings).to.have.length(1);
      }
      expect(Math.max(...latencies)).to.be.below(1000, `latencies ${latencies.join(', ')} ms`);
      // The transaction is still open: nothing above waited for it to end.
      const { rows } = await idle.query<{ open: boolean }>(`select pg_current_xact_id_if_assigned() is not null as open`);
      expect(rows[0]!.open).to.equal(true);
    } finally {
      await idle.query('rollback').catch(() => undefined);
      await app.stop();
    }
  });
});
