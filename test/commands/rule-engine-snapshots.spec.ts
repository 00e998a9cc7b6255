import { expect } from 'chai';
import type { Knex } from 'knex';
import { RULE_ENGINE_CHECKPOINT, startRuleEngine, type RunningRuleEngine } from '../../commands/reactors/rule-engine.ts';
import { RULE_BOOK_SNAPSHOT } from '../../commands/restore-rule-book.ts';
import { campaignStream, type CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import type { JsonObject } from '../../domain/json.ts';
import { createRuleBook } from '../../domain/rules/rule-book.ts';
import { RULE_BOOK_SNAPSHOT_VERSION, type RuleBookState } from '../../domain/rules/rule-book-snapshot.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventStore, type SubscribeOptions, type Subscription } from '../../infrastructure/event-store/event-store.ts';
import { checkpointMigrations, createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createSnapshots } from '../../infrastructure/postgres/snapshots.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { capturedLogger, WARN } from '../support/captured-logger.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { until } from '../support/until.ts';

const at = '2026-03-01T10:00:00.000Z';
const clock = () => new Date(at);

// ---------------------------------------------------------------- the log, written alike into each database

const created = (campaignId: string, budget: number | null): CampaignEvent => ({
  type: 'CampaignCreated', data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget, startsAt: null, endsAt: null, status: 'active', createdAt: at },
});
const rule = (campaignId: string, ruleId: string, priority: number, conditions: JsonObject, amount: number, maxPerBeneficiary: number | null = null): CampaignEvent => ({
  type: 'RuleAdded', data: { campaignId, ruleId, name: ruleId, priority, conditions, reward: { type: 'fixed', amount }, beneficiary: 'customerId', limits: { maxPerBeneficiary }, addedAt: at },
});

const writeCampaign = async (store: EventStore, campaignId: string, events: readonly CampaignEvent[]): Promise<void> => {
  for (const event of events) await store.appendToStream(campaignStream(campaignId), [toEventToAppend(event)], { expectedRevision: 'any' });
};

/** Returns the position of the registration. */
const register = async (store: EventStore, eventId: string, document: JsonObject): Promise<string> => {
  const event: EventRegistered = { type: 'EventRegistered', data: { eventId, eventType: 'purchase', occurredAt: at, document, registeredAt: at } };
  return (await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(event, { correlationId: eventId })], { expectedRevision: 'no_stream' })).position;
};

/** Budgets, a limit per beneficiary, a rule removed later, a campaign paused later. */
const firstPart = async (store: EventStore): Promise<string> => {
  await writeCampaign(store, 'budget', [created('budget', 1000), rule('budget', 'b', 0, { merchantId: 'M-1' }, 300)]);
  await writeCampaign(store, 'welcome', [
    created('welcome', null), rule('welcome', 'once', 9, {}, 50, 1), rule('welcome', 'gone', 5, {}, 70), rule('welcome', 'tie', 1, { merchantId: 'M-2' }, 20),
  ]);
  await writeCampaign(store, 'paused', [created('paused', null), rule('paused', 'p', 0, {}, 10)]);
  await register(store, 'e1', { customerId: 'C-1', merchantId: 'M-1' });
  await register(store, 'e2', { customerId: 'C-2', merchantId: 'M-1' });
  await register(store, 'e3', { customerId: 'C-1', merchantId: 'M-1' });
  return register(store, 'e4', { customerId: 'C-3', merchantId: 'M-2' });
};

/** What the decisions of the second part depend on: what is left of the budget, who reached a limit, which rule is older. */
const secondPart = async (store: EventStore): Promise<void> => {
  await writeCampaign(store, 'welcome', [{ type: 'RuleRemoved', data: { campaignId: 'welcome', ruleId: 'gone', removedAt: at } }, rule('welcome', 'tie-later', 1, { merchantId: 'M-2' }, 25)]);
  await writeCampaign(store, 'paused', [{ type: 'CampaignPaused', data: { campaignId: 'paused', at, by: 'api' } }]);
  await writeCampaign(store, 'later', [created('later', null), rule('later', 'l', 0, {}, 5)]);
  await register(store, 'e5', { customerId: 'C-1', merchantId: 'M-1' });
  await register(store, 'e6', { customerId: 'C-2', merchantId: 'M-1' });
  await register(store, 'e7', { customerId: 'C-1', merchantId: 'M-2' });
  await register(store, 'e8', { customerId: 'C-4', merchantId: 'M-2' });
};

// ---------------------------------------------------------------- running the engine

interface Log {
  readonly store: EventStore;
  readonly knex: Knex;
  /** Where each subscription the engine opened started (undefined: the start of the log). */
  readonly subscribedFrom: (string | undefined)[];
  /** What the engines gave up on: nothing, in every test. */
  readonly fatal: unknown[];
  stop(): Promise<void>;
}

const openLog = async (): Promise<Log> => {
  const { store, database, stop } = await createPostgresStoreForTest();
  const knex = createKnex({ url: database.url, max: 4 });
  await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
  const subscribedFrom: (string | undefined)[] = [];
  const recording: EventStore = {
    ...store,
    subscribeToAll: (options?: SubscribeOptions) => (subscribedFrom.push(options?.fromPosition), store.subscribeToAll(options)),
  };
  return { store: recording, knex, subscribedFrom, fatal: [], stop: async () => (await knex.destroy(), await stop()) };
};

/**
 * The log as a subscriber sees it up to `last` only, then nothing more until closed: the
 * engine decides up to there, and never sees its own decisions come back.
 */
const upTo = (store: EventStore, last: string): EventStore => ({
  ...store,
  subscribeToAll: (options?: SubscribeOptions): Subscription => {
    const inner = store.subscribeToAll(options);
    let closed: () => void = () => undefined;
    const closing = new Promise<void>((resolve) => (closed = resolve));
    return {
      [Symbol.asyncIterator]: async function* () {
        for await (const event of inner) {
          if (!isAtOrAfter(last, event.position)) break;
          yield event;
        }
        await closing;
      },
      position: () => {
        const read = inner.position();
        return read !== undefined && isAtOrAfter(read, last) ? last : read;
      },
      close: async () => {
        closed();
        await inner.close();
      },
    };
  },
});

const count = async (knex: Knex, sql: string): Promise<number> => Number((await knex.raw<{ rows: { n: string }[] }>(sql)).rows[0]!.n);
const decidedCount = (knex: Knex) => count(knex, `select count(distinct data->>'eventId') as n from tally_events where type in ('RuleMatched', 'EventSkipped')`);
const settled = async (knex: Knex, registered: number): Promise<boolean> =>
  (await decidedCount(knex)) === registered &&
  (await count(knex, `select count(*) as n from tally_events where type = 'RuleMatched'`)) === (await count(knex, `select count(*) as n from tally_events where type = 'EarningGranted'`));

/** Every decision and grant in the log, in a fixed order: what two logs are compared by. */
const decisions = async (knex: Knex) => ({
  decisions: (await knex('tally_events').whereIn('type', ['RuleMatched', 'EventSkipped']).select('type', 'data'))
    .map((row: { type: string; data: JsonObject }) => ({ type: row.type, data: row.data }))
    .sort((a, b) => `${a.data.eventId}/${a.data.campaignId}`.localeCompare(`${b.data.eventId}/${b.data.campaignId}`)),
  grants: (await knex('tally_events').where({ type: 'EarningGranted' }).select('data'))
    .map((row: { data: JsonObject }) => row.data)
    .sort((a, b) => String(a.earningId).localeCompare(String(b.earningId))),
});

const start = (log: Log, { store = log.store, snapshots = false, snapshotEvery, logger = silentLogger }: { store?: EventStore; snapshots?: boolean; snapshotEvery?: { events: number; ms: number }; logger?: Logger } = {}): Promise<RunningRuleEngine> =>
  startRuleEngine({
    store, checkpoints: createCheckpoints(log.knex), clock, logger, onFatal: (error) => void log.fatal.push(error),
    ...(snapshots ? { snapshots: createSnapshots(log.knex) } : {}), ...(snapshotEvery ? { snapshotEvery } : {}),
  });

const storedSnapshot = (knex: Knex) => knex('tally_snapshots').where({ name: RULE_BOOK_SNAPSHOT }).first<{ position: string; version: number; state: RuleBookState } | undefined>('position', 'version', 'state');

describe('rule engine snapshots', function () {
  this.timeout(60_000);

  it('restarts from a snapshot taken mid-way and decides every later event as an engine that replays from zero', async () => {
    const replaying = await openLog();
    const restarting = await openLog();
    try {
      // Given the same first part in two logs: one engine decides it as usual, without snapshots;
      await firstPart(replaying.store);
      let engine = await start(replaying);
      await until('the first part is decided', () => settled(replaying.knex, 4), { timeoutMs: 10_000 });
      await engine.stop();
      // the other decides it too, with a snapshot after every batch, and is stopped before its decisions come back
      // through the log: its snapshot holds decisions counted but not yet folded.
      const lastRegistration = await firstPart(restarting.store);
      engine = await start(restarting, { store: upTo(restarting.store, lastRegistration), snapshots: true, snapshotEvery: { events: 1, ms: 0 } });
      await until('the first part is decided and its snapshot saved', async () => (await settled(restarting.knex, 4)) && (await storedSnapshot(restarting.knex))?.position === lastRegistration, { timeoutMs: 10_000 });
      await engine.stop();
      const snapshot = (await storedSnapshot(restarting.knex))!;
      expect(snapshot.state.pending.map((pending) => pending.eventId)).to.deep.equal(['e1', 'e2', 'e3', 'e4']);
      expect(await createCheckpoints(restarting.knex).load(RULE_ENGINE_CHECKPOINT)).to.equal(lastRegistration);

      // When rules change, a campaign pauses, another starts, and more events come, in both logs,
      await secondPart(replaying.store);
      await secondPart(restarting.store);
      // and one engine starts from zero, the other from its snapshot,
      engine = await start(replaying);
      await until('the second part is decided from zero', () => settled(replaying.knex, 8), { timeoutMs: 10_000 });
      await engine.stop();
      engine = await start(restarting, { snapshots: true });
      await until('the second part is decided from the snapshot', () => settled(restarting.knex, 8), { timeoutMs: 10_000 });
      const position = engine.position();
      await engine.stop();

      // then they have appended the same decisions and grants,
      expect(replaying.subscribedFrom).to.deep.equal([undefined, undefined]);
      expect(restarting.subscribedFrom).to.deep.equal([undefined, lastRegistration]);
      const expected = await decisions(replaying.knex);
      expect(await decisions(restarting.knex)).to.deep.equal(expected);
      // which hang on what the first part left: 100 of the budget, C-1's welcome spent, the older of two tied rules.
      const of = (eventId: string, campaignId: string) => expected.decisions.find(({ data }) => data.eventId === eventId && (data.campaignId ?? campaignId) === campaignId);
      expect(of('e5', 'budget')?.data).to.deep.include({ ruleId: 'b', amount: 100 });
      expect(of('e6', 'budget')).to.equal(undefined);
      expect(of('e7', 'welcome')?.data).to.deep.include({ ruleId: 'tie', amount: 20 });
      expect(of('e5', 'paused')).to.equal(undefined);
      expect(expected.decisions.filter(({ data }) => data.eventId === 'e5').map(({ data }) => data.ruleId)).to.deep.equal(['b', 'l']);
      // And the engine saved its book when it stopped, where it had got to.
      expect((await storedSnapshot(restarting.knex))?.position).to.equal(position);
      expect([...replaying.fatal, ...restarting.fatal]).to.deep.equal([]);
    } finally {
      await replaying.stop();
      await restarting.stop();
    }
  });

  it('while it replays what its checkpoint covers, saves snapshots behind it without moving it back; from one, folds up to it without deciding again', async () => {
    const log = await openLog();
    try {
      // Given a log decided up to its head, the checkpoint there,
      await firstPart(log.store);
      let engine = await start(log);
      await until('it is decided', () => settled(log.knex, 4), { timeoutMs: 10_000 });
      await engine.stop();
      const head = (await log.store.headPosition())!;
      await createCheckpoints(log.knex).save(RULE_ENGINE_CHECKPOINT, head);
      const events = await count(log.knex, 'select count(*) as n from tally_events');
      // when an engine with snapshots replays the log up to the second registration only, and stops,
      let second: string | undefined;
      for await (const event of log.store.readAll()) if (event.type === 'EventRegistered' && event.data.eventId === 'e2') second = event.position;
      engine = await start(log, { store: upTo(log.store, second!), snapshots: true, snapshotEvery: { events: 1, ms: 0 } });
      await until('its snapshot reaches the second registration', async () => (await storedSnapshot(log.knex))?.position === second, { timeoutMs: 10_000 });
      await engine.stop();
      // then its snapshot lies there and the checkpoint is still at the head;
      expect(await createCheckpoints(log.knex).load(RULE_ENGINE_CHECKPOINT)).to.equal(head);
      // and an engine that starts from that snapshot folds the rest up to the head without deciding anything again.
      engine = await start(log, { snapshots: true });
      await until('it reaches the head', async () => isAtOrAfter(engine.position(), head), { timeoutMs: 10_000 });
      await engine.stop();
      expect(log.subscribedFrom.at(-1)).to.equal(second);
      expect(await count(log.knex, 'select count(*) as n from tally_events')).to.equal(events);
      expect(log.fatal).to.deep.equal([]);
    } finally {
      await log.stop();
    }
  });

  const unusable: Record<string, (position: string) => { version: number; state: unknown; checkpoint?: string }> = {
    'of another version': (position) => ({ version: RULE_BOOK_SNAPSHOT_VERSION + 1, state: createRuleBook().snapshot().state, checkpoint: position }),
    'that is damaged': (position) => ({ version: RULE_BOOK_SNAPSHOT_VERSION, state: { campaigns: 'garbage' }, checkpoint: position }),
    'beyond the checkpoint': () => ({ version: RULE_BOOK_SNAPSHOT_VERSION, state: createRuleBook().snapshot().state }),
  };
  for (const [kind, stored] of Object.entries(unusable)) {
    it(`ignores a snapshot ${kind}, says so, and folds the log from the start`, async () => {
      const log = await openLog();
      try {
        // Given a campaign and its rule, then a snapshot of an empty book after them, which the engine must not use,
        await writeCampaign(log.store, 'c', [created('c', null), rule('c', 'r', 0, {}, 100)]);
        const position = (await log.store.headPosition())!;
        const { version, state, checkpoint } = stored(position);
        await log.knex('tally_snapshots').insert({ name: RULE_BOOK_SNAPSHOT, position, version, state: JSON.stringify(state) });
        if (checkpoint) await createCheckpoints(log.knex).save(RULE_ENGINE_CHECKPOINT, checkpoint);
        // when the engine starts and an event comes,
        const { logger, entries } = capturedLogger();
        const engine = await start(log, { snapshots: true, logger });
        await register(log.store, 'e1', { customerId: 'C-1' });
        await until('it is decided', () => settled(log.knex, 1), { timeoutMs: 10_000 });
        await engine.stop();
        // then it knew the rule (it folded the log from the start), and said why it did not use the snapshot.
        expect(log.subscribedFrom).to.deep.equal([undefined]);
        expect((await decisions(log.knex)).decisions.map(({ type, data }) => [type, data.ruleId])).to.deep.equal([['RuleMatched', 'r']]);
        expect(entries.filter((entry) => entry.level === WARN).map((entry) => entry.msg)).to.deep.equal(['rule book snapshot not used; folding the log from the start']);
        expect(log.fatal).to.deep.equal([]);
      } finally {
        await log.stop();
      }
    });
  }
});
