import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

type Tally = Awaited<ReturnType<typeof runTally>>;

/**
 * Rules are data anyone with the API's credentials writes, and documents come
 * from anywhere: neither may stall the engine nor match what is not there.
 * Tally runs in this process, so a stalled engine would stall the test too.
 */
describe('rules under hostile patterns and field names, over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Tally;

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const createCampaign = async () => (await app.commands.post('/campaigns', { name: 'hostile' })).body.id as string;
  const addRule = async (campaignId: string, conditions: Record<string, unknown>) =>
    app.commands.post(`/campaigns/${campaignId}/rules`, { conditions, reward: { type: 'fixed', amount: 1 } });

  /** Polls GET /health on both APIs until `done` settles; every answer's status and time. */
  const healthWhile = async <T>(done: Promise<T>): Promise<{ result: T; polls: { status: number; ms: number }[] }> => {
    let settled = false;
    const polls: { status: number; ms: number }[] = [];
    const polling = (async () => {
      while (!settled) {
        for (const api of [app.commands, app.queries]) {
          const started = performance.now();
          const { status } = await api.get('/health');
          polls.push({ status, ms: performance.now() - started });
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const result = await done.finally(() => (settled = true));
    await polling;
    return { result, polls };
  };

  /**
   * Answered, and soon: a blocked event loop answers nothing. 503 is an answer
   * too (a subscriber catching up after the restart may report it).
   */
  const expectPrompt = (polls: { status: number; ms: number }[]) => {
    const report = JSON.stringify(polls);
    expect(polls.length, report).to.be.at.least(2);
    for (const { status, ms } of polls) {
      expect([200, 503], report).to.include(status);
      expect(ms, report).to.be.below(2_000);
    }
  };

  it('decides ^(a+)+$ against ten thousand a and a ! while /health on both APIs keeps answering, and again after a restart', async () => {
    const campaignId = await createCampaign();
    expect((await addRule(campaignId, { code: { $regex: '^(a+)+$' } })).status).to.equal(201);
    const hostile = await app.commands.post('/events', { customerId: 'C-1', code: `${'a'.repeat(10_000)}!` });
    const benign = await app.commands.post('/events', { customerId: 'C-1', code: 'a'.repeat(10_000) });
    expect([hostile.status, benign.status]).to.deep.equal([202, 202]);

    const decided = async () => [
      (await app.queries.get(`/events/${hostile.body.id}?wait=20`)).body,
      (await app.queries.get(`/events/${benign.body.id}?wait=20`)).body,
    ];
    const { result: [first, second], polls } = await healthWhile(decided());
    expect(first.status, JSON.stringify(first).slice(0, 300)).to.equal('skipped');
    expect(second.status, JSON.stringify(second).slice(0, 300)).to.equal('processed');
    expectPrompt(polls);

    // The engine reads the whole log again at start, the rule and both documents with it.
    await app.stop();
    app = await runTally(database.url);
    const again = await app.commands.post('/events', { customerId: 'C-2', code: `${'a'.repeat(10_000)}!` });
    const afterRestart = await healthWhile(app.queries.get(`/events/${again.body.id}?wait=20`));
    expect(afterRestart.result.body.status, JSON.stringify(afterRestart.result.body).slice(0, 300)).to.equal('skipped');
    expectPrompt(afterRestart.polls);
  });

  for (const [feature, pattern] of [
    ['a backreference', '(a)\\1'],
    ['a lookahead', 'a(?=b)'],
    ['a negative lookahead', 'a(?!b)'],
    ['a lookbehind', '(?<=a)b'],
    ['a negative lookbehind', '(?<!a)b'],
  ]) {
    it(`refuses a $regex with ${feature} (400, naming its path)`, async () => {
      const reply = await addRule(await createCampaign(), { merchantId: 'M-1', code: { $regex: pattern } });
      expect(reply.status).to.equal(400);
      expect(reply.body.errors[0].pointer).to.equal('/conditions/code/$regex');
      expect(reply.body.errors[0].message).to.match(/linear time/);
    });
  }

  it('refuses $or under a field (400), which the engine could not compile', async () => {
    const reply = await addRule(await createCampaign(), { code: { $or: [{ a: 1 }] } });
    expect(reply.status).to.equal(400);
    expect(reply.body.errors[0].pointer).to.equal('/conditions/code/$or');
  });

  it('grants nothing on constructor.name or toString for a plain purchase, and grants where the purchase has those fields', async () => {
    const campaignId = await createCampaign();
    expect((await addRule(campaignId, { 'constructor.name': 'Object' })).status).to.equal(201);
    expect((await addRule(campaignId, { toString: { $exists: true } })).status).to.equal(201);
    const plain = await app.commands.post('/events', { type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 10 });
    const decided = (await app.queries.get(`/events/${plain.body.id}?wait=10`)).body;
    expect(decided.status, JSON.stringify(decided)).to.equal('skipped');
    expect(decided.earnings).to.deep.equal([]);

    const withField = await app.commands.post('/events', { type: 'purchase', customerId: 'C-1', constructor: { name: 'Object' } });
    const granted = (await app.queries.get(`/events/${withField.body.id}?wait=10`)).body;
    expect(granted.status, JSON.stringify(granted)).to.equal('processed');
    expect(granted.earnings.map((earning: { campaignId: string }) => earning.campaignId)).to.deep.equal([campaignId]);
  });
});
