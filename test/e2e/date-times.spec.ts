import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/**
 * Date-times in requests: only RFC 3339 that PostgreSQL and Date.parse read
 * as the same instant gets in, and it is stored in UTC. Before, a leap second
 * was taken (Date.parse: NaN), and `+16:00` or year 0000 were taken and then
 * refused by PostgreSQL in the projector, which stayed stuck on them.
 */
describe('date-times in requests, over HTTP', function () {
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

  const refused = [
    '2016-12-31T23:59:60Z',
    '2024-01-01T00:00:00+16:00',
    '0000-06-15T00:00:00Z',
    '0001-01-01T00:00:00+14:00',
    '9999-12-31T23:59:59-01:00',
    '2023-02-29T12:00:00Z',
    '2024-01-01 00:00:00Z',
    '2024-01-01T00:00:00',
  ];

  it('refuses a date-time it cannot store as it was meant, naming the field', async () => {
    for (const occurredAt of refused) {
      const reply = await app.commands.post('/events', { type: 'purchase', occurredAt });
      expect(reply.status, occurredAt).to.equal(400);
      expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(reply.body.errors[0].pointer, occurredAt).to.equal('/occurredAt');
      expect(reply.body.errors[0].message).to.match(/RFC 3339/);
    }
  });

  it('refuses one in a batch as that item, with a pointer into the batch', async () => {
    const events = [{ type: 'purchase' }, { type: 'purchase' }, { type: 'purchase' }, { type: 'purchase', occurredAt: '2024-01-01T00:00:00+16:00' }];
    const reply = await app.commands.post('/events/batch', { events });
    expect(reply.status).to.equal(202);
    expect(reply.body.results.map((result: { status: number }) => result.status)).to.deep.equal([202, 202, 202, 400]);
    expect(reply.body.results[3].problem.errors[0].pointer).to.equal('/events/3/occurredAt');
  });

  it('refuses one in startsAt or endsAt of a campaign', async () => {
    for (const [field, value] of [['startsAt', '2016-12-31T23:59:60Z'], ['endsAt', '0001-01-01T00:00:00+14:00'], ['endsAt', '2999-01-01T00:00:00+16:00']] as const) {
      const reply = await app.commands.post('/campaigns', { name: 'c', [field]: value });
      expect(reply.status, `${field} ${value}`).to.equal(400);
      expect(reply.body.errors[0].pointer).to.equal(`/${field}`);
    }
  });

  it('stores occurredAt in UTC to the millisecond, keeps the document as sent, and decides the event', async () => {
    const cases = [
      ['2024-03-10T13:30:00.123456+01:30', '2024-03-10T12:00:00.123Z'],
      ['2024-03-01t01:00:00+14:00', '2024-02-29T11:00:00.000Z'],
      ['0001-01-01T00:00:00-14:00', '0001-01-01T14:00:00.000Z'],
      ['9999-12-31T23:59:59.9999999Z', '9999-12-31T23:59:59.999Z'],
    ];
    for (const [occurredAt, utc] of cases) {
      const registered = await app.commands.post('/events', { type: 'purchase', occurredAt });
      expect(registered.status, occurredAt).to.equal(202);
      const [first] = (await app.queries.get(`/streams/tracked-event-${registered.body.id}`)).body.events;
      expect(first.type).to.equal('EventRegistered');
      expect(first.data.occurredAt, occurredAt).to.equal(utc);
      expect(first.data.document.occurredAt, 'rules match the client’s text').to.equal(occurredAt);
      const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
      expect(decided.body.status, occurredAt).to.equal('skipped');
      expect(decided.body.occurredAt).to.equal(utc);
      expect(decided.body.document.occurredAt).to.equal(occurredAt);
    }
  });

  it('answers a repeated report with an offset as the first time, and appends nothing', async () => {
    const body = { id: 'dated-retry', type: 'purchase', occurredAt: '2024-03-10T13:00:00.5+01:00' };
    const first = await app.commands.post('/events', body);
    const again = await app.commands.post('/events', body);
    expect([first.status, again.status]).to.deep.equal([202, 202]);
    expect(again.body).to.deep.equal(first.body);
    const stream = (await app.queries.get('/streams/tracked-event-dated-retry')).body.events;
    expect(stream.filter((event: { type: string }) => event.type === 'EventRegistered')).to.have.length(1);
    // The same instant written another way is another report under the same id.
    expect((await app.commands.post('/events', { ...body, occurredAt: '2024-03-10T12:00:00.5Z' })).status).to.equal(409);
  });

  it('stores startsAt and endsAt of a campaign in UTC, which the query API serves', async () => {
    const created = await app.commands.post('/campaigns', { name: 'dated', startsAt: '2020-01-01T01:00:00+01:00', endsAt: '9999-12-31T23:59:59.9999-00:00' });
    expect(created.status).to.equal(201);
    expect(created.body.status).to.equal('active');
    const [first] = (await app.queries.get(`/streams/campaign-${created.body.id}`)).body.events;
    expect(first.data).to.include({ startsAt: '2020-01-01T00:00:00.000Z', endsAt: '9999-12-31T23:59:59.999Z' });
    let campaign = await app.queries.get(`/campaigns/${created.body.id}`);
    for (let i = 0; i < 100 && campaign.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      campaign = await app.queries.get(`/campaigns/${created.body.id}`);
    }
    expect(campaign.status).to.equal(200);
    expect(campaign.body).to.include({ startsAt: '2020-01-01T00:00:00.000Z', endsAt: '9999-12-31T23:59:59.999Z' });
  });
});
