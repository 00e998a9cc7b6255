import { expect } from 'chai';
import { RULE_ENGINE_CHECKPOINT, startRuleEngine } from '../../commands/reactors/rule-engine.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** The rule engine decides what the subscription has ready in batches: one append of decisions, one of grants. */
describe('rule engine batches', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('decides a backlog with a few appends, in log order, within the budget, and checkpoints once per batch', async () => {
    const writer = await runTally(database.url, { roles: ['command'] });
    const campaign = await writer.commands.post('/campaigns', { name: 'Backlog', budget: 100 });
    await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
    const events = 300;
    const batch = await writer.commands.post('/events/batch', { events: Array.from({ length: events }, (_, n) => ({ id: `e-${n}`, merchantId: 'M-1', customerId: `C-${n}` })) });
    expect(batch.body.results.every((result: { status: number }) => result.status === 202)).to.equal(true);
    const store = writer.tally.store;
    const calls: number[] = [];
    const counting: EventStore = { ...store, appendToStreams: (appends) => (calls.push(appends.length), store.appendToStreams(appends)) };
    const knex = createKnex({ url: database.url, max: 2 });
    const engine = await startRuleEngine({ store: counting, checkpoints: createCheckpoints(knex), clock: () => new Date(), logger: silentLogger, onFatal: () => undefined, batchSize: 500 });
    try {
      const head = await store.headPosition();
      for (let waited = 0; (await createCheckpoints(knex).load(RULE_ENGINE_CHECKPOINT)) !== head && waited < 20_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const granted = await knex('tally_events').where({ type: 'EarningGranted' }).select('data');
      // The first 100 purchases in log order get the budget; the rest are skipped.
      const registered: string[] = [];
      for await (const event of store.readAll()) if (event.type === 'EventRegistered') registered.push(String(event.data.eventId));
      expect(granted.map((row: { data: { eventId: string } }) => row.data.eventId).sort()).to.deep.equal(registered.slice(0, 100).sort());
      expect(await knex('tally_events').where({ type: 'EventSkipped' }).count({ n: '*' }).then((rows) => Number(rows[0]!.n))).to.equal(events - 100);
      // 300 decisions and 100 grants in a handful of calls, not 400.
      expect(calls.reduce((sum, n) => sum + n, 0)).to.equal(events + 100);
      expect(calls.length).to.be.at.most(6);
    } finally {
      await engine.stop();
      await knex.destroy();
      await writer.stop();
    }
  });
});
