import { expect } from 'chai';
import { addRuleSchema, createCampaignSchema, trackEventSchema } from '../../commands/http/request-schemas.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/** Issue 4 over HTTP: lifecycle, conditions, rewards, limits, idempotency, batch, simulate, OpenAPI. */
describe('campaigns and rules, over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let now = new Date('2030-01-01T00:00:00.000Z');

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url, { clock: () => now });
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const createCampaign = async (body: Record<string, unknown> = {}) => (await app.commands.post('/campaigns', { name: 'c', ...body })).body;
  const addRule = async (campaignId: string, body: Record<string, unknown>) => app.commands.post(`/campaigns/${campaignId}/rules`, body);
  const decide = async (document: Record<string, unknown>) => {
    const registered = await app.commands.post('/events', document);
    expect(registered.status).to.equal(202);
    return (await app.queries.get(`/events/${registered.body.id}?wait=5`)).body;
  };
  /** Each test gets a merchant of its own, so campaigns of other tests never match its events. */
  let merchant = 0;
  const freshMerchant = () => `M-${++merchant}-${Date.now()}`;
  const earningsFor = (decided: { earnings: { campaignId: string; amount: number }[] }, campaignId: string) =>
    decided.earnings.filter((earning) => earning.campaignId === campaignId).map((earning) => earning.amount);

  describe('lifecycle', () => {
    it('pauses, resumes and ends a campaign; ended is final (409); answers carry status, revision and ETag', async () => {
      const { id } = await createCampaign();
      const paused = await app.commands.post(`/campaigns/${id}/pause`);
      expect(paused.status).to.equal(200);
      expect(paused.body).to.include({ id, status: 'paused', revision: '1' });
      expect(paused.headers.get('etag')).to.equal('"1"');
      expect((await app.commands.post(`/campaigns/${id}/pause`)).status).to.equal(409);
      expect((await app.commands.post(`/campaigns/${id}/activate`)).body.status).to.equal('active');
      expect((await app.commands.post(`/campaigns/${id}/end`)).body.status).to.equal('ended');
      const again = await app.commands.post(`/campaigns/${id}/activate`);
      expect(again.status).to.equal(409);
      expect(again.headers.get('content-type')).to.match(/problem\+json/);
    });

    it('retries a write that meets a concurrent one when there is no If-Match', async () => {
      const { id } = await createCampaign();
      const m = freshMerchant();
      const replies = await Promise.all(Array.from({ length: 4 }, () => addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 } })));
      expect(replies.map((reply) => reply.status)).to.deep.equal([201, 201, 201, 201]);
      expect(replies.map((reply) => reply.body.revision).sort()).to.deep.equal(['1', '2', '3', '4']);
    });

    it('honours If-Match: 412 when stale, 400 when malformed, applied when current', async () => {
      const { id } = await createCampaign();
      expect((await app.commands.post(`/campaigns/${id}/pause`, undefined, { 'if-match': '"7"' })).status).to.equal(412);
      expect((await app.commands.post(`/campaigns/${id}/pause`, undefined, { 'if-match': 'yesterday' })).status).to.equal(400);
      const paused = await app.commands.post(`/campaigns/${id}/pause`, undefined, { 'if-match': '"0"' });
      expect(paused.status).to.equal(200);
      // The pause moved the campaign to revision 1; a rule added without If-Match moves it to 2.
      expect((await addRule(id, { conditions: { merchantId: freshMerchant() }, reward: { type: 'fixed', amount: 1 } })).status).to.equal(201);
      expect((await app.commands.post(`/campaigns/${id}/rules`, { conditions: {}, reward: { type: 'fixed', amount: 1 } }, { 'if-match': '"1"' })).status).to.equal(412);
    });

    it('activates a scheduled campaign at startsAt and ends it at endsAt, by the clock', async () => {
      const { id, status } = await createCampaign({ startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-03T00:00:00Z' });
      expect(status).to.equal('scheduled');
      const waitForStatus = async (expected: string) => {
        for (let i = 0; i < 200; i++) {
          const view = await app.queries.get(`/campaigns/${id}`);
          if (view.body?.status === expected) return;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`campaign never became ${expected}`);
      };
      const tickAt = async (iso: string) => {
        now = new Date(iso);
        const stream = await app.queries.get(`/streams/campaign-${id}`);
        await app.tally.schedule!.caughtUpTo(stream.body.events.at(-1).position);
        await app.tally.schedule!.tick();
      };
      await waitForStatus('scheduled');
      await tickAt('2030-01-01T23:59:59Z');
      await waitForStatus('scheduled');
      await tickAt('2030-01-02T00:00:00Z');
      await waitForStatus('active');
      await tickAt('2030-01-03T00:00:01Z');
      await waitForStatus('ended');
      const stream = await app.queries.get(`/streams/campaign-${id}`);
      expect(stream.body.events.map((e: { type: string; metadata: { actor: string } }) => [e.type, e.metadata.actor])).to.deep.equal([
        ['CampaignCreated', 'admin'], ['CampaignActivated', 'schedule'], ['CampaignEnded', 'schedule'],
      ]);
    });

    it('judges startsAt and endsAt at the moment an event is registered, even before the schedule ticks', async () => {
      const m = freshMerchant();
      const start = now.getTime();
      const later = (hours: number) => new Date(start + hours * 3_600_000).toISOString();
      const { id: ending } = await createCampaign({ endsAt: later(2) });
      const { id: starting, status } = await createCampaign({ startsAt: later(1) });
      expect(status).to.equal('scheduled');
      for (const id of [ending, starting]) await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 } });
      const decided = async () => {
        const earned = await decide({ merchantId: m, customerId: 'C-1' });
        return [earningsFor(earned, ending).length, earningsFor(earned, starting).length];
      };
      expect(await decided()).to.deep.equal([1, 0]);
      now = new Date(later(1.5));
      expect(await decided()).to.deep.equal([1, 1]);
      now = new Date(later(3));
      expect(await decided()).to.deep.equal([0, 1]);
    });

    it('does not match events while paused', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 } });
      await app.commands.post(`/campaigns/${id}/pause`);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1' }), id)).to.deep.equal([]);
      await app.commands.post(`/campaigns/${id}/activate`);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1' }), id)).to.deep.equal([1]);
    });
  });

  describe('conditions', () => {
    it('matches the full condition language', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      await addRule(id, {
        conditions: {
          merchantId: m,
          amount: { $gte: 100, $lt: 1000 },
          'data.channel': { $in: ['web', 'app'] },
          sku: { $regex: '^SKU-\\d+$', $options: 'i' },
          coupon: { $exists: false },
          tags: { $all: ['spring'], $size: 2 },
          items: { $elemMatch: { qty: { $gt: 1 } } },
          $or: [{ country: 'NL' }, { country: { $nin: ['US', 'CA'] } }],
          status: { $not: { $eq: 'cancelled' } },
          $nor: [{ test: true }],
        },
        reward: { type: 'fixed', amount: 3 },
      });
      const document = { merchantId: m, customerId: 'C-1', amount: 150, data: { channel: 'app' }, sku: 'sku-42', tags: ['spring', 'sale'], items: [{ qty: 1 }, { qty: 2 }], country: 'DE', status: 'paid' };
      expect(earningsFor(await decide(document), id)).to.deep.equal([3]);
      expect(earningsFor(await decide({ ...document, amount: 99.99 }), id)).to.deep.equal([]);
      expect(earningsFor(await decide({ ...document, coupon: 'X' }), id)).to.deep.equal([]);
      expect(earningsFor(await decide({ ...document, country: 'US' }), id)).to.deep.equal([]);
    });

    for (const [name, conditions, pointer] of [
      ['an unsafe operator', { amount: { $where: 'true' } }, '/conditions/amount/$where'],
      ['$expr at the top', { $expr: { $gt: ['$a', 1] } }, '/conditions/$expr'],
      ['$function deep inside', { $or: [{ a: 1 }, { b: { $function: {} } }] }, '/conditions/$or/1/b/$function'],
      ['a malformed $regex', { sku: { $regex: '([' } }, '/conditions/sku/$regex'],
      ['a wrong operand type', { tags: { $in: 'spring' } }, '/conditions/tags/$in'],
      ['a wrong $size', { tags: { $size: -1 } }, '/conditions/tags/$size'],
    ] as const) {
      it(`refuses ${name}, naming the exact path`, async () => {
        const { id } = await createCampaign();
        const reply = await addRule(id, { conditions, reward: { type: 'fixed', amount: 1 } });
        expect(reply.status).to.equal(400);
        expect(reply.body.errors[0].pointer).to.equal(pointer);
      });
    }
  });

  describe('rewards, beneficiaries, limits and budgets', () => {
    it('grants a percentage of a field, rounded to the cent, capped', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'percentage', rate: 0.05, of: 'amount', cap: 20 } });
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1', amount: 150 }), id)).to.deep.equal([7.5]);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1', amount: 10.1 }), id)).to.deep.equal([0.51]);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1', amount: 1000 }), id)).to.deep.equal([20]);
    });

    it('rounds to the currency minor unit (JPY has none)', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign({ currency: 'JPY' });
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'percentage', rate: 0.015, of: 'amount' } });
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1', amount: 1234 }), id)).to.deep.equal([19]);
      expect((await addRule(id, { conditions: {}, reward: { type: 'fixed', amount: 1.5 } })).status).to.equal(400);
    });

    it('pays the beneficiary at the rule path, and skips with a reason when there is none', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 }, beneficiary: 'member.id' });
      const paid = await decide({ merchantId: m, member: { id: 'MEM-1' } });
      expect(paid.earnings.find((e: { campaignId: string }) => e.campaignId === id).beneficiaryId).to.equal('MEM-1');
      const skipped = await decide({ merchantId: m, customerId: 'C-1' });
      expect(skipped.status).to.equal('skipped');
      expect(skipped.skipReasons.find((r: { campaignId: string }) => r.campaignId === id).reason).to.match(/no beneficiary at "member.id"/);
    });

    it('caps earnings per beneficiary', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 2 }, limits: { maxPerBeneficiary: 2 } });
      const amounts = [];
      for (let i = 0; i < 3; i++) amounts.push(earningsFor(await decide({ merchantId: m, customerId: 'C-9' }), id));
      expect(amounts).to.deep.equal([[2], [2], []]);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-10' }), id)).to.deep.equal([2]);
    });

    it('grants the rest of the budget, then skips with "budget exhausted"', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign({ budget: 12 });
      await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 5 } });
      const amounts = [];
      for (let i = 0; i < 3; i++) amounts.push(earningsFor(await decide({ merchantId: m, customerId: `C-${i}` }), id));
      expect(amounts).to.deep.equal([[5], [5], [2]]);
      const exhausted = await decide({ merchantId: m, customerId: 'C-4' });
      expect(exhausted.skipReasons.find((r: { campaignId: string }) => r.campaignId === id).reason).to.equal('budget exhausted');
      // The totals of earnings follow the earnings read model, which may be a batch behind the decisions.
      const totals = await until('the three earnings counted', async () => (await app.queries.get(`/campaigns/${id}`)).body.totals, { ok: (shown) => shown.earnings === 3 });
      expect(totals).to.deep.equal({ eventsMatched: 3, earnings: 3, granted: 12, amount: 12, reversed: 0, budgetRemaining: 0 });
    });

    it('removes a rule for events registered after', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      const rule = await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 } });
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1' }), id)).to.deep.equal([1]);
      const removed = await app.commands.delete(`/campaigns/${id}/rules/${rule.body.id}`);
      expect(removed.status).to.equal(200);
      expect(earningsFor(await decide({ merchantId: m, customerId: 'C-1' }), id)).to.deep.equal([]);
      expect((await app.commands.delete(`/campaigns/${id}/rules/${rule.body.id}`)).status).to.equal(404);
      expect((await app.queries.get(`/campaigns/${id}`)).body.rules).to.deep.equal([]);
    });
  });

  describe('tracked events', () => {
    it('registers a batch, answering each item on its own', async () => {
      const reply = await app.commands.post('/events/batch', {
        events: [{ id: 'batch-1', type: 'purchase' }, { id: '../bad', type: 'purchase' }, { id: 'batch-1', type: 'return' }, { type: 'purchase' }],
      });
      expect(reply.status).to.equal(202);
      const results = reply.body.results as { index: number; status: number; body?: { id: string }; problem?: { errors?: { pointer: string }[] } }[];
      expect(results.map((r) => r.status)).to.have.members([202, 400, 409, 202]);
      expect(results[1]!.problem!.errors![0]!.pointer).to.equal('/events/1/id');
      expect(results[3]!.body!.id).to.be.a('string');
    });

    it('refuses text with a NUL character, naming where it is', async () => {
      const reply = await app.commands.post('/events', { type: 'purchase', note: { text: 'a\u0000b' } });
      expect(reply.status).to.equal(400);
      expect(reply.body.errors[0].pointer).to.equal('/note/text');
    });

    it('treats -0 as the 0 the log stores when a report is repeated', async () => {
      const first = await app.commands.post('/events', '{"id": "signed-zero", "amount": -0}');
      const again = await app.commands.post('/events', '{"id": "signed-zero", "amount": 0}');
      expect([first.status, again.status]).to.deep.equal([202, 202]);
      expect(again.body).to.deep.equal(first.body);
    });

    it('refuses a batch of more than 1,000 and a body over 1 MiB', async () => {
      expect((await app.commands.post('/events/batch', { events: Array.from({ length: 1001 }, () => ({})) })).status).to.equal(400);
      const huge = await app.commands.post('/events', { type: 'purchase', blob: 'x'.repeat(1024 * 1024 + 1) });
      expect(huge.status).to.equal(413);
      expect(huge.headers.get('content-type')).to.match(/problem\+json/);
    });

    it('simulates: which rules would match, and the first failing condition of the others; nothing changes', async () => {
      const m = freshMerchant();
      const { id } = await createCampaign();
      const yes = await addRule(id, { conditions: { merchantId: m }, reward: { type: 'fixed', amount: 1 }, priority: 1 });
      const no = await addRule(id, { conditions: { merchantId: m, amount: { $gte: 100 } }, reward: { type: 'fixed', amount: 9 }, priority: 5 });
      const events = (await app.queries.get(`/streams/campaign-${id}`)).body.events;
      const countEvents = async () => {
        let n = 0;
        for await (const _ of app.tally.store.readAll()) n++;
        return n;
      };
      const before = await countEvents();
      const reply = await app.commands.post(`/events/simulate?minPosition=${events.at(-1).position}`, { merchantId: m, customerId: 'C-1', amount: 50 });
      expect(await countEvents()).to.equal(before);
      // Any earlier answer's position will do, and a made-up one is refused.
      const registered = await app.commands.post('/events', { merchantId: 'nobody' });
      expect((await app.commands.post(`/events/simulate?minPosition=${registered.body.position}`, { merchantId: m })).status).to.equal(200);
      expect((await app.commands.post('/events/simulate?minPosition=yesterday', { merchantId: m })).status).to.equal(400);
      expect(reply.status).to.equal(200);
      expect(reply.body.wouldMatch.filter((match: { campaignId: string }) => match.campaignId === id)).to.deep.equal([
        { campaignId: id, ruleId: yes.body.id, beneficiaryId: 'C-1', amount: 1, currency: 'EUR' },
      ]);
      const mine = reply.body.rules.filter((rule: { campaignId: string }) => rule.campaignId === id);
      expect(mine).to.deep.equal([
        { campaignId: id, ruleId: no.body.id, matched: false, failedPath: '/conditions/amount' },
        { campaignId: id, ruleId: yes.body.id, matched: true },
      ]);
    });
  });

  it('publishes an OpenAPI 3.1 document built from the validating schemas', async () => {
    const reply = await app.commands.get('/openapi.json');
    expect(reply.status).to.equal(200);
    expect(reply.body.openapi).to.equal('3.1.0');
    const body = (path: string) => reply.body.paths[path].post.requestBody.content['application/json'].schema;
    expect(body('/campaigns')).to.deep.equal(createCampaignSchema);
    expect(body('/campaigns/{id}/rules')).to.deep.equal(JSON.parse(JSON.stringify(addRuleSchema)));
    expect(body('/events')).to.deep.equal(trackEventSchema);
  });
});

describe('budgets and limits across a restart of the rule engine', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('rebuilds spent budgets and counts from the log alone', async () => {
    const first = await runTally(database.url);
    const { id } = (await first.commands.post('/campaigns', { name: 'budget', budget: 10 })).body;
    await first.commands.post(`/campaigns/${id}/rules`, { conditions: { merchantId: 'R' }, reward: { type: 'fixed', amount: 4 }, limits: { maxPerBeneficiary: 1 } });
    for (const customerId of ['A', 'B']) {
      const { body } = await first.commands.post('/events', { merchantId: 'R', customerId });
      expect((await first.queries.get(`/events/${body.id}?wait=5`)).body.status).to.equal('processed');
    }
    await first.stop();

    const second = await runTally(database.url);
    const repeat = await second.commands.post('/events', { merchantId: 'R', customerId: 'A' });
    const limited = (await second.queries.get(`/events/${repeat.body.id}?wait=5`)).body;
    expect(limited.status).to.equal('skipped');
    expect(limited.skipReasons[0].reason).to.match(/A reached its limit of 1/);
    const rest = await second.commands.post('/events', { merchantId: 'R', customerId: 'C' });
    expect((await second.queries.get(`/events/${rest.body.id}?wait=5`)).body.earnings[0].amount).to.equal(2);
    const none = await second.commands.post('/events', { merchantId: 'R', customerId: 'D' });
    expect((await second.queries.get(`/events/${none.body.id}?wait=5`)).body.skipReasons[0].reason).to.equal('budget exhausted');
    await second.stop();
  });
});

describe('the campaign schedule on its node-cron timer', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('activates a campaign when startsAt comes, with no one calling tick()', async () => {
    const app = await runTally(database.url);
    try {
      const startsAt = new Date(Date.now() + 1500).toISOString();
      const { body } = await app.commands.post('/campaigns', { name: 'soon', startsAt });
      expect(body.status).to.equal('scheduled');
      let status = 'scheduled';
      for (let i = 0; i < 100 && status !== 'active'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await app.queries.get(`/campaigns/${body.id}`)).body?.status ?? status;
      }
      expect(status).to.equal('active');
    } finally {
      await app.stop();
    }
  });
});
