import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** The roles of one deployment, or a rolling deploy, start at once on a database none of them has migrated. */
describe('processes starting at once on a fresh database', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  it('all start: they take turns to migrate instead of failing on the migration lock', async () => {
    const started = await Promise.allSettled([
      runTally(database.url, { roles: ['command', 'query'] }),
      runTally(database.url, { roles: ['projector', 'reactor'] }),
      runTally(database.url, { roles: ['projector', 'reactor'] }),
      runTally(database.url),
    ]);
    try {
      expect(started.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'started'))).to.deep.equal(['started', 'started', 'started', 'started']);
      const [apis] = started;
      if (apis?.status !== 'fulfilled') throw new Error('unreachable');
      const campaign = await apis.value.commands.post('/campaigns', { name: 'Started at once' });
      expect(campaign.status).to.equal(201);
    } finally {
      await Promise.all(started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop() : undefined)));
    }
  });
});
