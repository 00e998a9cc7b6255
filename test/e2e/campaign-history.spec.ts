import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** DESIGN §7: GET /campaigns/:id/history?asOf=, the campaign as of a revision of its stream or a moment, folded from the log. */
describe('GET /campaigns/:id/history', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url, { roles: ['command', 'query'] });
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('shows the campaign as each revision, or each moment, left it; as it is now without asOf', async () => {
    const created = await app.commands.post('/campaigns', {
      name: 'Versioned', budget: 100, holdDays: 2, notifications: { channel: 'webhook', recipient: 'customerId', template: 'x', webhookUrl: 'http://127.0.0.1:9/hook', secret: 'hush' },
    });
    const id = created.body.id as string;
    const cheap = await app.commands.post(`/campaigns/${id}/rules`, { name: 'cheap', conditions: {}, reward: { type: 'fixed', amount: 1.5 } });
    await app.commands.post(`/campaigns/${id}/rules`, { name: 'dear', priority: 5, conditions: { merchantId: 'M1' }, reward: { type: 'percentage', rate: 0.1, of: 'amount', cap: 20 } });
    await app.commands.post(`/campaigns/${id}/pause`, {});
    await app.commands.delete(`/campaigns/${id}/rules/${cheap.body.id}`);
    const history = async (asOf?: string) => app.queries.get(`/campaigns/${id}/history${asOf === undefined ? '' : `?asOf=${encodeURIComponent(asOf)}`}`);

    const first = await history('0');
    expect(first.status).to.equal(200);
    expect(first.body).to.deep.include({ id, name: 'Versioned', status: 'active', budget: 100, holdDays: 2, refundDays: 365, revision: '0', rules: [] });
    expect(first.body.notifications).to.deep.include({ hasSecret: true });
    expect(JSON.stringify(first.body)).to.not.contain('hush');
    expect((await history('2')).body.rules.map((rule: { name: string }) => rule.name)).to.deep.equal(['dear', 'cheap']);
    expect((await history('2')).body.rules[0].reward).to.deep.equal({ type: 'percentage', rate: 0.1, of: 'amount', cap: 20 });
    expect((await history('3')).body.status).to.equal('paused');
    const now = await history();
    expect(now.body).to.deep.include({ status: 'paused', revision: '4' });
    expect(now.body.rules.map((rule: { name: string }) => rule.name)).to.deep.equal(['dear']);

    // By the moment the log recorded each event.
    const stream = (await app.queries.get(`/streams/campaign-${id}`)).body.events as { revision: string; recordedAt: string }[];
    const moment = stream[1]!.recordedAt;
    const latestThen = stream.filter((event) => Date.parse(event.recordedAt) <= Date.parse(moment)).at(-1)!.revision;
    expect((await history(moment)).body.asOf).to.deep.equal({ revision: latestThen, recordedAt: stream.find((event) => event.revision === latestThen)!.recordedAt });
    expect((await history(new Date(Date.parse(stream[0]!.recordedAt) - 60_000).toISOString())).status).to.equal(404);
  });

  it('refuses an asOf that is neither a revision nor a date-time, and knows no campaign it never saw', async () => {
    const bad = await app.queries.get('/campaigns/anything/history?asOf=yesterday');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors[0].pointer).to.equal('/query/asOf');
    expect((await app.queries.get('/campaigns/never-created/history')).status).to.equal(404);
  });
});
