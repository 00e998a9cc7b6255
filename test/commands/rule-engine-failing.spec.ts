import { expect } from 'chai';
import type { Knex } from 'knex';
import { RULE_ENGINE_CHECKPOINT, startRuleEngine } from '../../commands/reactors/rule-engine.ts';
import { campaignStream } from '../../domain/campaign/campaign-events.ts';
import { isAtOrAfter, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { createStatusBoard, readSubscriberStatus, type StatusBoard, type SubscriberStatus } from '../../infrastructure/postgres/subscriber-status.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/** A rule engine that cannot get past an event shows failing, where it is stuck, and neither dies nor skips it. */
describe('rule engine, failing', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let writer: Awaited<ReturnType<typeof runTally>>;
  let knex: Knex;
  let board: StatusBoard;
  beforeEach(async () => {
    database = await createTestDatabase();
    writer = await runTally(database.url, { roles: ['command'] });
    knex = createKnex({ url: database.url, max: 2 });
    board = createStatusBoard({ knex, logger: silentLogger });
  });
  afterEach(async () => {
    await board?.close();
    await knex?.destroy();
    await writer?.stop();
    await database?.drop();
  });

  const status = async (): Promise<SubscriberStatus | undefined> => (await readSubscriberStatus(knex, 10_000)).find((row) => row.subscriber === RULE_ENGINE_CHECKPOINT);
  const positionOf = async (type: string): Promise<string | undefined> => {
    for await (const event of writer.tally.store.readAll()) if (event.type === type) return event.position;
    return undefined;
  };
  const countOf = (type: string): Promise<number> => knex('tally_events').where({ type }).count({ n: '*' }).then((rows) => Number(rows[0]!.n));

  it('retries a TypeError from the store, shown failing at the first event whose appends fail, and then grants once', async () => {
    const campaign = await writer.commands.post('/campaigns', { name: 'Typed' });
    await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
    await writer.commands.post('/events', { merchantId: 'M-1', customerId: 'C-1' });
    const registered = await positionOf('EventRegistered');
    const { store } = writer.tally;
    // A TypeError where an outage was expected (a driver's bug on a dropped connection, say), which p-retry gives up on at once.
    let broken = true;
    const flaky: EventStore = { ...store, appendToStreams: async (appends) => (broken ? Promise.reject(new TypeError('Cannot read properties of null')) : store.appendToStreams(appends)) };
    const fatal: unknown[] = [];
    const engine = await startRuleEngine({ store: flaky, checkpoints: createCheckpoints(knex), clock: () => new Date(), logger: silentLogger, board, onFatal: (error) => fatal.push(error) });
    try {
      // Not the first event of the batch (the campaign's are): the first one that calls for an append.
      const failing = await until('the engine shows failing', status, { ok: (row) => row?.state === 'failing', timeoutMs: 10_000, detail: JSON.stringify });
      expect(failing).to.deep.include({ error: 'Cannot read properties of null', stuckAt: registered });
      broken = false;
      const head = await store.headPosition();
      await until('the engine runs again', status, { ok: (row) => row?.state === 'running' && isAtOrAfter(row.position ?? undefined, head!), timeoutMs: 10_000, detail: JSON.stringify });
      for (let i = 0; i < 200 && (await countOf('EarningGranted')) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    } finally {
      await engine.stop();
    }
    expect(fatal).to.deep.equal([]);
    expect(await countOf('RuleMatched')).to.equal(1);
    expect(await countOf('EarningGranted')).to.equal(1);
  });

  it('stays at an event it cannot fold (odd data, a bug), shown failing there, and never passes it', async () => {
    const campaign = await writer.commands.post('/campaigns', { name: 'Odd' });
    const { store } = writer.tally;
    // A rule with no conditions at all, as no release writes: compiling it throws a TypeError.
    const odd = await store.appendToStream(
      campaignStream(campaign.body.id),
      [{ type: 'RuleAdded', data: { campaignId: campaign.body.id, ruleId: 'odd', name: 'odd', priority: 0, conditions: null, reward: { type: 'fixed', amount: 1 }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: new Date().toISOString() } }],
      { expectedRevision: 'any' },
    );
    await writer.commands.post('/events', { merchantId: 'M-1', customerId: 'C-1' });
    const fatal: unknown[] = [];
    const engine = await startRuleEngine({ store, checkpoints: createCheckpoints(knex), clock: () => new Date(), logger: silentLogger, board, onFatal: (error) => fatal.push(error) });
    try {
      // Not the first event of its batch (CampaignCreated is): the one that throws.
      const failing = await until('the engine shows failing', status, { ok: (row) => row?.state === 'failing', timeoutMs: 10_000, detail: JSON.stringify });
      expect(failing?.stuckAt).to.equal(odd.position);
      expect(failing?.error).to.match(/null/);
      // Tried again and again, never passed: the tracked event after it waits.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await status()).to.deep.include({ state: 'failing', stuckAt: odd.position });
      expect(await countOf('EventSkipped')).to.equal(0);
      expect(await countOf('RuleMatched')).to.equal(0);
      expect(fatal).to.deep.equal([]);
    } finally {
      await engine.stop();
    }
  });
});
