import { expect } from 'chai';
import { EVENT_STORE_KINDS, eventStoreEnv, type EventStoreEnv } from '../support/event-store-kinds.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

for (const kind of EVENT_STORE_KINDS) {
  describe(`POST /events/simulate with a minPosition past the end of the log, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let app: Awaited<ReturnType<typeof runTally>>;

    before(async () => {
      database = await createTestDatabase();
      eventStore = await eventStoreEnv(kind);
      app = await runTally(database.url, { env: eventStore.env });
    });
    after(async () => {
      await app?.stop();
      await eventStore?.stop();
      await database?.drop();
    });

    it('refuses it at once (400) instead of waiting 5 s for a 503; a real one still passes', async () => {
      const registered = await app.commands.post('/events', { merchantId: 'M-1' });
      // Well-formed for this store (same shape, every digit a 9), but nothing was ever written there.
      const madeUp = String(registered.body.position).replace(/\d/g, '9');
      const started = Date.now();
      const reply = await app.commands.post(`/events/simulate?minPosition=${madeUp}`, { merchantId: 'M-1' });
      expect(Date.now() - started).to.be.below(2000);
      expect(reply.status).to.equal(400);
      expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(reply.body.errors).to.deep.equal([{ pointer: '/query/minPosition', message: 'is beyond the end of the log' }]);
      expect((await app.commands.post(`/events/simulate?minPosition=${registered.body.position}`, { merchantId: 'M-1' })).status).to.equal(200);
    });
  });
}
