import { expect } from 'chai';
import { followRuleBook } from '../../commands/live-rule-book.ts';
import { createRuleBook, fromSnapshot } from '../../domain/rules/rule-book.ts';
import { createEsdbEventStore } from '../../infrastructure/event-store/esdb/esdb-event-store.ts';
import type { EventStore, SubscribeOptions } from '../../infrastructure/event-store/event-store.ts';
import { startEsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';

const stores: Record<string, () => Promise<{ store: EventStore; stop(): Promise<void> }>> = {
  postgres: createPostgresStoreForTest,
  esdb: async () => {
    const server = await startEsdbTestServer();
    const store = createEsdbEventStore({ connectionString: server.connectionString });
    return { store, stop: async () => (await store.close(), await server.stop()) };
  },
};

for (const [kind, create] of Object.entries(stores)) {
  describe(`live rule book (simulate's view of the rules), ${kind}`, function () {
    this.timeout(30_000);

    it('is current at the position of any earlier write, campaign or not, without waiting for a checkpoint', async () => {
      const { store, stop } = await create();
      const live = followRuleBook(store, silentLogger);
      try {
        const at = '2026-01-01T00:00:00.000Z';
        await store.appendToStream('campaign-c1', [{ type: 'CampaignCreated', data: { campaignId: 'c1', name: 'c1', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: at } }], { expectedRevision: 'no_stream' });
        const rule = await store.appendToStream('campaign-c1', [{ type: 'RuleAdded', data: { campaignId: 'c1', ruleId: 'r1', name: 'r1', priority: 0, conditions: { merchantId: 'M1' }, reward: { type: 'fixed', amount: 100 }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: at } }], { expectedRevision: 0n });
        expect(await live.caughtUpTo(rule.position, 5000)).to.equal(true);
        expect(live.book.decide({ merchantId: 'M1', customerId: 'C-1' }, at, () => 'e').matches).to.have.length(1);
        // A tracked event: the book does not follow it, yet it is current there at once.
        const other = await store.appendToStream('tracked-event-x', [{ type: 'EventRegistered', data: { eventId: 'x' } }], { expectedRevision: 'no_stream' });
        expect(await live.caughtUpTo(other.position, 5000)).to.equal(true);
      } finally {
        await live.stop();
        await stop();
      }
    });
  });
}

describe('live rule book, from the rule engine\'s snapshot', function () {
  this.timeout(30_000);

  it('follows the log from the snapshot\'s position, with the budget the snapshot counted', async () => {
    const { store, stop } = await createPostgresStoreForTest();
    const subscribedFrom: (string | undefined)[] = [];
    const recording: EventStore = { ...store, subscribeToAll: (options?: SubscribeOptions) => (subscribedFrom.push(options?.fromPosition), store.subscribeToAll(options)) };
    const at = '2026-01-01T00:00:00.000Z';
    const created = { type: 'CampaignCreated', data: { campaignId: 'c1', name: 'c1', description: null, currency: 'EUR', budget: 150, startsAt: null, endsAt: null, status: 'active', createdAt: at } } as const;
    const rule = (ruleId: string, priority: number) =>
      ({ type: 'RuleAdded', data: { campaignId: 'c1', ruleId, name: ruleId, priority, conditions: {}, reward: { type: 'fixed', amount: 100 }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: at } }) as const;
    // Given the engine's book at the position of its first rule, with 100 of the 150 counted for a decision not yet in the log,
    await store.appendToStream('campaign-c1', [created], { expectedRevision: 'no_stream' });
    const { position } = await store.appendToStream('campaign-c1', [rule('r1', 0)], { expectedRevision: 0n });
    const engineBook = createRuleBook();
    [created, rule('r1', 0)].forEach((event) => engineBook.apply(event));
    engineBook.record('e1', engineBook.decide({ customerId: 'C-1' }, at, () => 'x'));
    const restored = fromSnapshot(JSON.parse(JSON.stringify(engineBook.snapshot())) as { version: number; state: unknown });
    if (!restored.ok) throw new Error(restored.reason);
    // when the live book starts from it, and a rule is added after it,
    const live = followRuleBook(recording, silentLogger, { book: restored.book, position });
    try {
      const later = await store.appendToStream('campaign-c1', [rule('r2', 9)], { expectedRevision: 1n });
      expect(await live.caughtUpTo(position, 1)).to.equal(true);
      expect(await live.caughtUpTo(later.position, 5000)).to.equal(true);
      // then it read the log after the snapshot only: it knows both rules once, and grants what is left of the budget.
      expect(subscribedFrom).to.deep.equal([position]);
      expect(live.book.decide({ customerId: 'C-2' }, at, () => 'y').matches.map(({ ruleId, amount }) => ({ ruleId, amount }))).to.deep.equal([{ ruleId: 'r2', amount: 50 }]);
      expect(live.book.explain({ customerId: 'C-2' }, at).map(({ ruleId }) => ruleId)).to.deep.equal(['r2', 'r1']);
    } finally {
      await live.stop();
      await stop();
    }
  });
});
