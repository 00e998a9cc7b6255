import { expect } from 'chai';
import { startEsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('a dependency outage, over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('answers 503 problem+json with Retry-After when the event store is down, and changes nothing', async () => {
    const server = await startEsdbTestServer();
    const app = await runTally(database.url, { roles: ['command'], env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString } });
    try {
      expect((await app.commands.post('/events', { id: 'before-outage', type: 'purchase' })).status).to.equal(202);
      await server.stop();
      const reply = await app.commands.post('/events', { id: 'during-outage', type: 'purchase' });
      expect(reply.status).to.equal(503);
      expect(reply.headers.get('content-type')).to.match(/application\/problem\+json/);
      expect(reply.headers.get('retry-after')).to.equal('5');
      expect(reply.body.detail).to.match(/nothing was changed/);
    } finally {
      await app.stop();
    }
  });
});
