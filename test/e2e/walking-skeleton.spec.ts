import { expect } from 'chai';
import type { Knex } from 'knex';
import { RULE_ENGINE_CHECKPOINT } from '../../commands/reactors/rule-engine.ts';
import { isAtOrAfter } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { EVENT_STORE_KINDS, eventStoreEnv, type EventStoreEnv } from '../support/event-store-kinds.ts';
import { httpClient } from '../support/http-client.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const purchase = (merchantId: string, extra: Record<string, unknown> = {}) => ({ type: 'purchase', merchantId, customerId: 'C-1', amount: 150.0, ...extra });

for (const kind of EVENT_STORE_KINDS) {
  describe(`walking skeleton over HTTP, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let app: Awaited<ReturnType<typeof runTally>>;

    /** Domain events written by requests; the rule engine's own decisions may still be landing in the background. */
    const countDomainEvents = async (): Promise<number> => {
      let count = 0;
      for await (const event of app.tally.store.readAll()) if (event.metadata.actor !== 'rule-engine') count++;
      return count;
    };

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

    it('plays the core loop: campaign, rule, purchase, match, earning', async () => {
      const campaign = await app.commands.post('/campaigns', { name: 'Spring Sale 2024' });
      expect(campaign.status).to.equal(201);
      expect(campaign.body).to.include({ status: 'active', revision: '0' });
      expect(campaign.body.position).to.be.a('string');

      const rule = await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'MERCHANT_001' }, reward: { type: 'fixed', amount: 5 } });
      expect(rule.status).to.equal(201);
      expect(rule.body).to.include({ campaignId: campaign.body.id, revision: '1' });

      const registered = await app.commands.post('/events', purchase('MERCHANT_001'));
      expect(registered.status).to.equal(202);
      expect(registered.body).to.include({ status: 'pending' });

      const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
      expect(decided.status).to.equal(200);
      expect(decided.body).to.include({ status: 'processed', matchedRuleId: rule.body.id });
      expect(decided.body.matchedRuleIds).to.deep.equal([rule.body.id]);
      expect(decided.body.earnings).to.have.length(1);
      expect(decided.body.earnings[0]).to.include({ beneficiaryId: 'C-1', amount: 5, currency: 'EUR' });

      // The earning goes through one more step (EarningGranted): wait for it without a timed assertion.
      let earnings: { amount: number; beneficiaryId: string; eventId: string }[] = [];
      for (let i = 0; i < 100 && earnings.length === 0; i++) {
        earnings = (await app.queries.get(`/earnings?beneficiaryId=C-1`)).body.earnings;
        if (earnings.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(earnings).to.have.length(1);
      expect(earnings[0]).to.include({ amount: 5, beneficiaryId: 'C-1', eventId: registered.body.id });

      const other = await app.commands.post('/events', purchase('MERCHANT_002'));
      const skipped = await app.queries.get(`/events/${other.body.id}?wait=5`);
      expect(skipped.body).to.include({ status: 'skipped', matchedRuleId: null });
      expect(skipped.body.skipReasons).to.deep.equal([{ campaignId: campaign.body.id, reason: 'no rule matched' }]);

      // The audit trail: positions and revisions are strings in JSON.
      const stream = await app.queries.get(`/streams/tracked-event-${registered.body.id}`);
      expect(stream.body.events.map((e: { type: string }) => e.type)).to.deep.equal(['EventRegistered', 'RuleMatched']);
      expect(stream.body.events.map((e: { revision: string }) => e.revision)).to.deep.equal(['0', '1']);
      expect(stream.body.events[0].position).to.be.a('string').and.equal(registered.body.position);
      expect(stream.body.events[1].metadata).to.include({ actor: 'rule-engine', causationId: stream.body.events[0].id });

      const view = await app.queries.get(`/campaigns/${campaign.body.id}`);
      expect(view.body).to.include({ name: 'Spring Sale 2024', status: 'active', currency: 'EUR' });
      expect(view.body.rules).to.have.length(1);
      expect(view.body.rules[0]).to.deep.include({ id: rule.body.id, conditions: { merchantId: 'MERCHANT_001' }, reward: { type: 'fixed', amount: 5 } });
      expect(view.body.totals).to.deep.equal({ eventsMatched: 1, earnings: 1, granted: 5, amount: 5, reversed: 0, budgetRemaining: null });
    });

    it('matches equality on dot-notation paths', async () => {
      const campaign = await app.commands.post('/campaigns', { name: 'Web only' });
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { 'data.channel': 'web' }, reward: { type: 'fixed', amount: 2.5 }, beneficiary: 'data.member' });
      const registered = await app.commands.post('/events', { type: 'signup', data: { channel: 'web', member: 'M-9' } });
      const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
      expect(decided.body.status).to.equal('processed');
      expect(decided.body.earnings.find((e: { campaignId: string }) => e.campaignId === campaign.body.id)).to.include({ beneficiaryId: 'M-9', amount: 2.5 });
    });

    it('registers a tracked event idempotently on its id', async () => {
      const body = { id: 'order-42', ...purchase('MERCHANT_001') };
      const first = await app.commands.post('/events', body);
      const before = await countDomainEvents();
      const again = await app.commands.post('/events', { ...body });
      expect(again.status).to.equal(202);
      expect(again.body).to.deep.equal(first.body);
      const conflict = await app.commands.post('/events', { ...body, amount: 99 });
      expect(conflict.status).to.equal(409);
      expect(conflict.headers.get('content-type')).to.match(/application\/problem\+json/);
      expect(await countDomainEvents()).to.equal(before);
    });

    it('answers GET /events/:id with 404 for an unknown event, after the wait', async () => {
      const reply = await app.queries.get('/events/never-registered?wait=0.2');
      expect(reply.status).to.equal(404);
      expect(reply.body).to.include({ status: 404, title: 'Not Found' });
    });

    describe('bad input gets a 4xx problem and changes nothing', () => {
      let before: number;
      beforeEach(async () => {
        before = await countDomainEvents();
      });
      afterEach(async () => {
        expect(await countDomainEvents()).to.equal(before);
      });

      it('requires Basic auth on both APIs but not on /health', async () => {
        const anonymousCommands = httpClient(`http://127.0.0.1:${app.tally.commandPort}`, null);
        const wrongQueries = httpClient(`http://127.0.0.1:${app.tally.queryPort}`, 'admin:wrong');
        const refused = await anonymousCommands.post('/campaigns', { name: 'x' });
        expect(refused.status).to.equal(401);
        expect(refused.headers.get('www-authenticate')).to.match(/^Basic/);
        expect(refused.headers.get('content-type')).to.match(/application\/problem\+json/);
        expect((await wrongQueries.get('/earnings?beneficiaryId=C-1')).status).to.equal(401);
        expect((await wrongQueries.get('/health')).status).to.equal(200);
        expect((await anonymousCommands.get('/health')).status).to.equal(200);
      });

      it('names a missing field', async () => {
        const reply = await app.commands.post('/campaigns', { description: 'no name' });
        expect(reply.status).to.equal(400);
        expect(reply.headers.get('content-type')).to.match(/application\/problem\+json/);
        expect(reply.body).to.include({ status: 400, title: 'Bad Request' });
        expect(reply.body.errors).to.deep.include({ pointer: '/name', message: "must have required property 'name'" });
      });

      it('names a field of the wrong type deep in the body', async () => {
        const campaign = await app.commands.post('/campaigns', { name: 'c' });
        before = await countDomainEvents();
        const reply = await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: {}, reward: { type: 'fixed', amount: 'five' } });
        expect(reply.status).to.equal(400);
        expect(reply.body.errors[0].pointer).to.equal('/reward/amount');
      });

      it('refuses an unsafe operator, naming its path', async () => {
        const campaign = await app.commands.post('/campaigns', { name: 'c' });
        before = await countDomainEvents();
        const reply = await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { amount: { $where: 'this.amount > 1' } }, reward: { type: 'fixed', amount: 1 } });
        expect(reply.status).to.equal(400);
        expect(reply.body.errors).to.deep.equal([{ pointer: '/conditions/amount/$where', message: 'operator $where is not allowed' }]);
      });

      it('refuses a field the contract does not know', async () => {
        const reply = await app.commands.post('/campaigns', { name: 'c', colour: 'red' });
        expect(reply.status).to.equal(400);
        expect(reply.body.errors).to.deep.include({ pointer: '/colour', message: 'is not allowed' });
      });

      it('refuses malformed JSON', async () => {
        const reply = await app.commands.post('/events', '{"type": "purchase",');
        expect(reply.status).to.equal(400);
        expect(reply.body.detail).to.match(/not valid JSON/);
      });

      it('refuses a bad event id and a bad wait', async () => {
        expect((await app.commands.post('/events', { id: '../../etc', type: 'x' })).status).to.equal(400);
        expect((await app.queries.get('/events/x?wait=999')).status).to.equal(400);
      });

      it('answers 404 for a rule on a campaign that does not exist', async () => {
        const reply = await app.commands.post('/campaigns/00000000-0000-0000-0000-000000000000/rules', { conditions: {}, reward: { type: 'fixed', amount: 1 } });
        expect(reply.status).to.equal(404);
      });
    });
  });

  describe(`rule engine across restarts, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let knex: Knex;
    before(async () => {
      database = await createTestDatabase();
      eventStore = await eventStoreEnv(kind);
      knex = createKnex({ url: database.url, max: 1 });
    });
    after(async () => {
      await knex?.destroy();
      await eventStore?.stop();
      await database?.drop();
    });

    it('decides with the rules in force where the event was registered, and keeps its checkpoint', async () => {
      // Only the command API runs at first: nothing is decided yet.
      const writer = await runTally(database.url, { roles: ['command'], env: eventStore.env });
      const campaign = await writer.commands.post('/campaigns', { name: 'late rule' });
      const early = await writer.commands.post('/events', purchase('MERCHANT_001'));
      await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'MERCHANT_001' }, reward: { type: 'fixed', amount: 1 } });
      const late = await writer.commands.post('/events', purchase('MERCHANT_001'));
      await writer.stop();

      const first = await runTally(database.url, { env: eventStore.env });
      expect((await first.queries.get(`/events/${early.body.id}?wait=5`)).body.status).to.equal('skipped');
      expect((await first.queries.get(`/events/${late.body.id}?wait=5`)).body.status).to.equal('processed');
      const lateStream = [];
      for await (const event of first.tally.store.readStream(`tracked-event-${late.body.id}`)) lateStream.push(event);
      await first.stop();
      // The checkpoint covers both decisions, so a restart does not try them again.
      const saved = await createCheckpoints(knex).load(RULE_ENGINE_CHECKPOINT);
      expect(saved).to.be.a('string');
      expect(isAtOrAfter(saved, lateStream[0]!.position)).to.equal(true);

      // A second start decides nothing again: each tracked event stream holds exactly one decision.
      const second = await runTally(database.url, { env: eventStore.env });
      const more = await second.commands.post('/events', purchase('MERCHANT_001'));
      expect((await second.queries.get(`/events/${more.body.id}?wait=5`)).body.status).to.equal('processed');
      for (const id of [early.body.id, late.body.id, more.body.id]) {
        const stream = await second.queries.get(`/streams/tracked-event-${id}`);
        expect(stream.body.events.map((e: { type: string }) => e.type)).to.have.length(2);
      }
      await second.stop();
    });
  });
}
