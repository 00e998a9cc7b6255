import { expect } from 'chai';
import { messageIdForEarning } from '../../commands/reactors/message-requests.ts';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const MAX_APPEND_SIZE = 16 * 1024;

/**
 * Messaging against EventStoreDB (the test double) with a small MaxAppendSize:
 * an append of the message reactors that the store refuses for its size ends
 * that message, in a small MessageAbandoned, instead of wedging the reactor in
 * an endless retry; the messages after it still go.
 */
describe('messaging when EventStoreDB refuses an append for its size', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let server: EsdbTestServer;
  let app: Awaited<ReturnType<typeof runTally>>;

  before(async () => {
    database = await createTestDatabase();
    server = await startEsdbTestServer({ maxAppendSizeBytes: MAX_APPEND_SIZE });
    app = await runTally(database.url, { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString, MESSAGE_RETRY_BASE_MS: '200' } });
  });
  after(async () => {
    await app?.stop();
    await server?.stop();
    await database?.drop();
  });

  const settled = (messageId: string, status: string) =>
    until(`message ${messageId} is ${status}`, async () => (await app.queries.get(`/messages/${messageId}`)).body, { ok: (body) => body?.status === status, detail: (body) => JSON.stringify(body) });

  it('a delivered message whose MessageSent is too large is abandoned saying so, once, and the next message is sent', async () => {
    const campaign = await app.commands.post('/campaigns', { name: 'Echo', notifications: { channel: 'log', recipient: 'customerId', template: '{{event.note}}{{event.note}}' } });
    expect(campaign.status, JSON.stringify(campaign.body)).to.equal(201);
    await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 5 } });
    const earned = async (note: string): Promise<string> => {
      const purchase = await app.commands.post('/events', { type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 150, note });
      expect(purchase.status, JSON.stringify(purchase.body)).to.equal(202);
      const decided = await app.queries.get(`/events/${purchase.body.id}?wait=10`);
      return messageIdForEarning(decided.body.earnings[0].id);
    };
    // 10 KB fits in MessageRequested (its context keeps the note once); the body says it twice, 20 KB: MessageSent is over 16 KiB.
    const large = await earned('x'.repeat(10_000));
    const small = await earned('hi');
    const abandoned = await settled(large, 'abandoned');
    expect(abandoned.lastError).to.equal(`delivered, but MessageSent is larger than the event store takes (at most ${MAX_APPEND_SIZE} bytes)`);
    const types = (await app.queries.get(`/streams/message-${large}`)).body.events.map((event: { type: string }) => event.type);
    expect(types).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
    expect(await settled(small, 'sent')).to.include({ body: 'hihi' });
  });
});
