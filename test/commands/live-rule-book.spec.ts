import { expect } from 'chai';
import { followRuleBook } from '../../commands/live-rule-book.ts';
import { createEsdbEventStore } from '../../infrastructure/event-store/esdb/esdb-event-store.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
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
