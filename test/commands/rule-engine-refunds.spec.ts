import { expect } from 'chai';
import { earningIdFor, RULE_ENGINE_CHECKPOINT, startRuleEngine, type RunningRuleEngine } from '../../commands/reactors/rule-engine.ts';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { handMadeDecisions } from '../support/hand-made-decisions.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

type Knex = ReturnType<typeof createKnex>;

const eventsOfType = async (store: EventStore, type: string): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  for await (const event of store.readAll()) if (event.type === type) found.push(event);
  return found;
};

/** The rule engine decides refunds from the log alone, in log order, with the tracked events registered before it ran. */
describe('rule engine: refunds', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let writer: Awaited<ReturnType<typeof runTally>>;
  let knex: Knex;
  beforeEach(async () => {
    database = await createTestDatabase();
    writer = await runTally(database.url, { roles: ['command'] });
    knex = createKnex({ url: database.url, max: 2 });
  });
  afterEach(async () => {
    await writer?.stop();
    await knex?.destroy();
    await database?.drop();
  });

  const start = (store: EventStore = writer.tally.store, batchSize?: number): Promise<RunningRuleEngine> =>
    startRuleEngine({ store, checkpoints: createCheckpoints(knex), clock: () => new Date(), logger: silentLogger, onFatal: () => undefined, batchSize });
  const caughtUp = async () => {
    const head = await writer.tally.store.headPosition();
    await until('the engine has checkpointed the head', () => createCheckpoints(knex).load(RULE_ENGINE_CHECKPOINT), { ok: (checkpoint) => checkpoint === head });
  };
  const post = async (body: Record<string, unknown>) => expect((await writer.commands.post('/events', body)).status).to.equal(202);

  it('reverses, gives back the budget, and skips with reasons, for a backlog registered before it ran', async () => {
    const campaign = await writer.commands.post('/campaigns', { name: 'Refunds', budget: 10 });
    await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'fixed', amount: 5 } });
    // Registered before p-late exists: unknown then, whatever comes later.
    await post({ id: 'r-early', type: 'refund', refundOf: 'p-late' });
    await post({ id: 'p1', type: 'purchase', customerId: 'C-1', amount: 100 });
    await post({ id: 'p2', type: 'purchase', customerId: 'C-2', amount: 100 });
    await post({ id: 'p3', type: 'purchase', customerId: 'C-3', amount: 100 }); // budget exhausted
    await post({ id: 'r1', type: 'refund', refundOf: 'p1', amount: 40 });
    await post({ id: 'p4', type: 'purchase', customerId: 'C-4', amount: 100 }); // gets the 2.00 given back
    await post({ id: 'r2', type: 'refund', refundOf: 'p1', amount: 80 }); // over-refund: the rest, 3.00
    await post({ id: 'r3', type: 'refund', refundOf: 'p1' });
    await post({ id: 'r4', type: 'refund', refundOf: 'p3' });
    await post({ id: 'p-late', type: 'purchase', customerId: 'C-5', amount: 100 }); // gets the 3.00 given back
    const engine = await start();
    try {
      await caughtUp();
      const store = writer.tally.store;
      const granted = Object.fromEntries((await eventsOfType(store, 'EarningGranted')).map((e) => [String(e.data.eventId), e.data.amount]));
      expect(granted).to.deep.equal({ p1: 500, p2: 500, p4: 200, 'p-late': 300 });
      const reversed = (await eventsOfType(store, 'EarningReversed')).map((e) => [e.data.refundEventId, e.data.amount, e.data.remaining]);
      expect(reversed).to.deep.equal([['r1', 200, 300], ['r2', 300, 0]]);
      const skipped = Object.fromEntries((await eventsOfType(store, 'EventSkipped')).map((e) => [String(e.data.eventId), (e.data.reasons as { reason: string }[])[0]!.reason]));
      expect(skipped).to.deep.equal({
        'r-early': 'event p-late is not registered before this refund',
        p3: 'budget exhausted',
        r3: 'event p1 is refunded in full already',
        r4: 'event p3 earned nothing to reverse',
      });
      // Each reversal names the refund's decision as its cause.
      const [applied] = await eventsOfType(store, 'RefundApplied');
      const [firstReversal] = await eventsOfType(store, 'EarningReversed');
      expect(firstReversal!.metadata.causationId).to.equal(applied!.id);
    } finally {
      await engine.stop();
    }
  });

  it('reverses once when the reversal append is lost, or the engine stops before it, and a new engine picks it up', async () => {
    const campaign = await writer.commands.post('/campaigns', { name: 'Refunds' });
    await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: {}, reward: { type: 'fixed', amount: 5 } });
    await post({ id: 'p1', customerId: 'C-1', amount: 10 });
    await post({ id: 'r1', type: 'refund', refundOf: 'p1', amount: 5 });
    const real = writer.tally.store;
    // Reversals are refused until the test lets them through: the engine decides and grants, then keeps failing to reverse.
    let reversalsRefused = true;
    let lostReplies = 1;
    const flaky: EventStore = {
      ...real,
      appendToStreams: async (appends) => {
        if (!appends.some(({ events }) => events.some((event) => event.type === 'EarningReversed'))) return real.appendToStreams(appends);
        if (reversalsRefused) throw new Error('the store is down');
        const results = await real.appendToStreams(appends);
        // Appended, but the reply is lost: the engine tries again, and must not reverse twice.
        if (lostReplies-- > 0) throw new Error('connection reset');
        return results;
      },
    };
    const first = await start(flaky);
    await until('the refund is decided', async () => (await eventsOfType(real, 'RefundApplied')).length === 1);
    await first.stop();
    expect(await eventsOfType(real, 'EarningReversed')).to.have.length(0);
    reversalsRefused = false;
    const second = await start(flaky);
    try {
      // The checkpoint moves past the refund's decision only once its reversals are appended.
      const [applied] = await eventsOfType(real, 'RefundApplied');
      await until('the engine has checkpointed the refund', () => createCheckpoints(knex).load(RULE_ENGINE_CHECKPOINT), { ok: (checkpoint) => checkpoint !== undefined && checkpoint >= applied!.position });
      // Past the retry and the lost reply: once, for the half refunded.
      const reversed = await eventsOfType(real, 'EarningReversed');
      expect(reversed.map((e) => [e.data.amount, e.data.remaining])).to.deep.equal([[250, 250]]);
    } finally {
      await second.stop();
    }
  });

  it('reverses, once granted, an earning whose purchase an earlier run decided but stopped before granting', async () => {
    const campaign = await writer.commands.post('/campaigns', { name: 'Refunds' });
    const rule = await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'fixed', amount: 5 } });
    await post({ id: 'p1', type: 'purchase', customerId: 'C-1', amount: 100 });
    await post({ id: 'r1', type: 'refund', refundOf: 'p1' });
    // An earlier run appended p1's decision, then stopped before its grant and its checkpoint.
    const earningId = earningIdFor('p1', campaign.body.id);
    await handMadeDecisions(writer.tally.store).match('p1', [{ campaignId: campaign.body.id, ruleId: rule.body.id, earningId, beneficiaryId: 'C-1', amount: 500, currency: 'EUR' }]);
    // The first batch ends at r1's registration: p1's decision is refused (decided already), r1's reversal finds no grant yet.
    const engine = await start(writer.tally.store, 4);
    try {
      const store = writer.tally.store;
      const reversed = await until('the reversal appended', () => eventsOfType(store, 'EarningReversed'), { ok: (events) => events.length > 0 });
      expect(reversed.map((event) => [event.data.earningId, event.data.amount, event.data.remaining])).to.deep.equal([[earningId, 500, 0]]);
      expect(await eventsOfType(store, 'EarningGranted')).to.have.length(1);
      expect(await eventsOfType(store, 'RefundApplied')).to.have.length(1);
    } finally {
      await engine.stop();
    }
  });
});

