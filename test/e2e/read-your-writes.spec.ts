import { expect } from 'chai';
import { EVENT_STORE_KINDS, eventStoreEnv } from '../support/event-store-kinds.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

type App = Awaited<ReturnType<typeof runTally>>;

/**
 * DESIGN §6, read-your-writes: a query with `minPosition` (a command's
 * `position`) is answered once every read model has taken in the log up to
 * it; it waits for the projector (bounded), and says 503 when that takes too long.
 */
describe('read-your-writes: minPosition on the query API', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  const apps: App[] = [];
  const start = async (roles: Parameters<typeof runTally>[1] = {}): Promise<App> => {
    const app = await runTally(database.url, roles);
    apps.push(app);
    return app;
  };
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.stop();
    await database?.drop();
  });

  it('waits for the projector to take in the write, however long it is away, then answers', async () => {
    // APIs only: nothing projects until the projector starts below.
    const apis = await start({ roles: ['command', 'query'] });
    const created = await apis.commands.post('/campaigns', { name: 'Seen at once' });
    expect(created.status).to.equal(201);
    expect((await apis.queries.get(`/campaigns/${created.body.id}`)).status).to.equal(404);
    const asked = Date.now();
    const answer = apis.queries.get(`/campaigns/${created.body.id}?minPosition=${created.body.position}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await start({ roles: ['projector'] });
    const shown = await answer;
    expect(shown.status).to.equal(200);
    expect(shown.body).to.include({ id: created.body.id, name: 'Seen at once' });
    expect(Date.now() - asked).to.be.at.least(500);
    // A write the campaigns read model does not take in (a tracked event): nothing of its own lies in between, so it answers at once.
    const registered = await apis.commands.post('/events', { type: 'purchase', customerId: 'C-1' });
    const again = await apis.queries.get(`/campaigns/${created.body.id}?minPosition=${registered.body.position}`);
    expect(again.status).to.equal(200);
    expect((await apis.queries.get(`/events/${registered.body.id}?minPosition=${registered.body.position}`)).status).to.equal(200);
  });

  it('answers 503 with Retry-After when the read models do not get there in time, and 400 for a position no command gave', async () => {
    const apis = await start({ roles: ['command', 'query'], env: { MIN_POSITION_TIMEOUT_MS: '300' } });
    const created = await apis.commands.post('/campaigns', { name: 'Never projected' });
    const late = await apis.queries.get(`/campaigns/${created.body.id}?minPosition=${created.body.position}`);
    expect(late.status).to.equal(503);
    expect(late.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(late.headers.get('retry-after')).to.be.a('string');
    for (const minPosition of ['nonsense', String(created.body.position).replace(/\d$/, (digit) => String((Number(digit) + 1) % 10)).replace(/^\d/, '9')]) {
      const refused = await apis.queries.get(`/campaigns?minPosition=${encodeURIComponent(minPosition)}`);
      expect(refused.status, minPosition).to.equal(400);
      expect(refused.body.errors[0].pointer).to.equal('/query/minPosition');
    }
  });

  it('answers at once for a read model far behind in checkpoint but current: thousands of events it does not take in since', async () => {
    const app = await start({ env: { MIN_POSITION_TIMEOUT_MS: '3000' } });
    const created = await app.commands.post('/campaigns', { name: 'Quiet' });
    let last = '';
    for (let batch = 0; batch < 12; batch++) {
      const answer = await app.commands.post('/events/batch', { events: Array.from({ length: 100 }, (_, n) => ({ id: `noise-${batch}-${n}`, type: 'purchase' })) });
      last = answer.body.results.at(-1).body.position;
    }
    // The campaigns projection took in nothing since its campaign: its checkpoint stands 1,200 events back.
    const answer = await app.queries.get(`/campaigns/${created.body.id}?minPosition=${last}`);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect((await app.queries.get(`/messages?minPosition=${last}`)).status).to.equal(200);
  });

  for (const kind of EVENT_STORE_KINDS) {
    it(`sees a command's write at once on every event store: ${kind}`, async () => {
      const eventStore = await eventStoreEnv(kind);
      try {
        const app = await start({ env: eventStore.env });
        const created = await app.commands.post('/campaigns', { name: `On ${kind}` });
        expect((await app.queries.get(`/campaigns/${created.body.id}?minPosition=${created.body.position}`)).body.name).to.equal(`On ${kind}`);
        const registered = await app.commands.post('/events', { type: 'purchase', customerId: 'C-1' });
        expect((await app.queries.get(`/events/${registered.body.id}?minPosition=${registered.body.position}`)).status).to.equal(200);
        expect((await app.queries.get(`/campaigns/${created.body.id}?minPosition=${registered.body.position}`)).status).to.equal(200);
        await apps.pop()!.stop();
      } finally {
        await eventStore.stop();
      }
    });
  }

  it('lets every query that names its write see it, with the whole app running', async () => {
    const app = await start();
    for (let n = 0; n < 20; n++) {
      const registered = await app.commands.post('/events', { id: `ryw-${n}`, type: 'purchase', customerId: 'C-1' });
      const seen = await app.queries.get(`/events/ryw-${n}?minPosition=${registered.body.position}`);
      expect(seen.status, `event ${n}`).to.equal(200);
    }
  });
});
