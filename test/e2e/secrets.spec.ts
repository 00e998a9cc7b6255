import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('secrets over HTTP', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>> | undefined;
  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  it("never shows a campaign's webhook secret, though the log keeps it for signing", async () => {
    const created = await app!.commands.post('/campaigns', {
      name: 'with a webhook',
      notifications: { channel: 'webhook', recipient: 'data.email', template: 'Hi', webhookUrl: 'https://example.com/hook', secret: 'whsec_do-not-show' },
    });
    expect(created.status).to.equal(201);
    const stream = await app!.queries.get(`/streams/campaign-${created.body.id}`);
    expect(stream.status).to.equal(200);
    expect(JSON.stringify(stream.body)).not.to.include('whsec_do-not-show');
    expect(stream.body.events[0].data.notifications).to.include({ secret: '[redacted]', webhookUrl: 'https://example.com/hook' });
    const campaign = await app!.queries.get(`/campaigns/${created.body.id}`);
    expect(JSON.stringify(campaign.body)).not.to.include('whsec_do-not-show');
  });
});
