import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

interface TrailEvent { type: string; streamId: string; position: string; data: Record<string, unknown>; metadata: { correlationId?: string } }

/** DESIGN §7: GET /events/:id/trail, the causal chain of one tracked event across streams. */
describe('GET /events/:id/trail', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const trail = async (id: string): Promise<TrailEvent[]> => {
    const answer = await app.queries.get(`/events/${id}/trail`);
    expect(answer.status).to.equal(200);
    return answer.body.events;
  };
  const types = (events: readonly TrailEvent[]) => events.map((event) => event.type);

  it('follows a purchase to its decision, grant and message, and its refund to the reversal and its message, each in log order', async () => {
    const campaign = await app.commands.post('/campaigns', {
      name: 'Traced', notifications: { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}', onReversed: { template: 'Reversed {{reversal.amount}}' } },
    });
    await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'fixed', amount: 5 } });
    await app.commands.post('/events', { id: 'traced-1', type: 'purchase', customerId: 'C-1', amount: 100 });
    const purchase = await until('the purchase told', () => trail('traced-1'), { ok: (events) => types(events).includes('MessageSent') });
    expect(types(purchase)).to.deep.equal(['EventRegistered', 'RuleMatched', 'EarningGranted', 'MessageRequested', 'MessageSent']);
    const positions = purchase.map((event) => event.position);
    expect(positions).to.deep.equal([...positions].sort());
    expect(new Set(purchase.slice(1).map((event) => event.metadata.correlationId)).size).to.equal(1);

    await app.commands.post('/events', { id: 'refund-of-traced-1', type: 'refund', refundOf: 'traced-1', amount: 50 });
    const refund = await until('the refund told', () => trail('refund-of-traced-1'), { ok: (events) => types(events).includes('MessageSent') });
    expect(types(refund)).to.deep.equal(['EventRegistered', 'RefundApplied', 'EarningReversed', 'MessageRequested', 'MessageSent']);
    expect(refund.find((event) => event.type === 'MessageSent')!.data.body).to.equal('Reversed 2.5');
    // The reversal is the refund's doing, not the purchase's: the purchase's trail is as it was.
    expect(types(await trail('traced-1'))).to.deep.equal(types(purchase));
  });

  it('is a 404 problem for an event that is not registered', async () => {
    const answer = await app.queries.get('/events/never-registered/trail');
    expect(answer.status).to.equal(404);
    expect(answer.headers.get('content-type')).to.match(/application\/problem\+json/);
  });
});
