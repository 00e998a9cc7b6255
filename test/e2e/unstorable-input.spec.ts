import { expect } from 'chai';
import { MAX_DEPTH } from '../../infrastructure/http/storable-body.ts';
import type { Reply } from '../support/http-client.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** `{"a":{"a":…1…}}`, `levels` objects deep, as JSON text. */
const nestedJson = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/**
 * What PostgreSQL cannot store is refused at the door with a 400 naming where
 * it is: lone surrogates and bodies nested too deep (a 500, or a 503 "retry
 * it" in a batch, before) and NUL in the URL (a 500 before).
 */
describe('input PostgreSQL cannot store, over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let campaignId: string;

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
    campaignId = (await app.commands.post('/campaigns', { name: 'c' })).body.id;
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const expectRefused = (reply: Reply<{ errors: { pointer: string; message: string }[] }>, pointer: string, message: RegExp) => {
    expect(reply.status, JSON.stringify(reply.body)).to.equal(400);
    expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(reply.body.errors[0]!.pointer).to.equal(pointer);
    expect(reply.body.errors[0]!.message).to.match(message);
  };

  describe('lone UTF-16 surrogates in a body', () => {
    it('are refused in a value or a key on every write route, naming the path', async () => {
      expectRefused(await app.commands.post('/events', '{"type": "purchase", "note": {"text": "a\\ud800"}}'), '/note/text', /lone UTF-16 surrogate/);
      expectRefused(await app.commands.post('/events', '{"type": "purchase", "list": [1, "\\udc00"]}'), '/list/1', /lone UTF-16 surrogate/);
      expectRefused(await app.commands.post('/events', '{"type": "purchase", "k\\ud800y": 1}'), '/k\ud800y', /^key .*lone UTF-16 surrogate/);
      expectRefused(await app.commands.post('/campaigns', '{"name": "\\ud800"}'), '/name', /lone UTF-16 surrogate/);
      expectRefused(
        await app.commands.post(`/campaigns/${campaignId}/rules`, '{"conditions": {"a\\udc00": 1}, "reward": {"type": "fixed", "amount": 1}}'),
        '/conditions/a\udc00', /lone UTF-16 surrogate/,
      );
      expectRefused(await app.commands.post('/events/simulate', '{"note": "\\ud800"}'), '/note', /lone UTF-16 surrogate/);
    });

    it('are refused per item in a batch, the other items registered', async () => {
      const reply = await app.commands.post('/events/batch', '{"events": [{"type": "purchase"}, {"note": "\\udc00"}, {"k\\ud800": 1}, {"note": "\\u0000"}]}');
      expect(reply.status).to.equal(202);
      const results = reply.body.results as { status: number; problem?: { errors: { pointer: string }[] } }[];
      expect(results.map((result) => result.status)).to.deep.equal([202, 400, 400, 400]);
      expect(results.slice(1).map((result) => result.problem!.errors[0]!.pointer)).to.deep.equal(['/events/1/note', '/events/2/k\ud800', '/events/3/note']);
    });

    it('are no surrogate pairs: emoji and other text are stored and projected as sent', async () => {
      const registered = await app.commands.post('/events', '{"type": "purchase", "note": "\\ud83c\\udf89 🎉 \\u0001 \\uffff", "🔑": true}');
      expect(registered.status).to.equal(202);
      const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
      expect(decided.body.status).to.equal('skipped');
      expect(decided.body.document).to.deep.equal({ type: 'purchase', note: '🎉 🎉 \u0001 \uffff', '🔑': true });
    });
  });

  describe(`nesting deeper than ${MAX_DEPTH} levels`, () => {
    const tooDeep = nestedJson(10_000);
    const where = '/a'.repeat(MAX_DEPTH);

    it('is refused on every write route, naming where the limit is passed', async () => {
      expectRefused(await app.commands.post('/events', tooDeep), where, /nests deeper than 100 levels/);
      expectRefused(await app.commands.post('/events/simulate', tooDeep), where, /nests deeper/);
      expectRefused(await app.commands.post('/campaigns', tooDeep), where, /nests deeper/);
      expectRefused(
        await app.commands.post(`/campaigns/${campaignId}/rules`, `{"conditions": ${nestedJson(MAX_DEPTH)}, "reward": {"type": "fixed", "amount": 1}}`),
        `/conditions${'/a'.repeat(MAX_DEPTH - 1)}`, /nests deeper/,
      );
    });

    it('is refused per item in a batch, counted from the item as if sent alone', async () => {
      const reply = await app.commands.post('/events/batch', `{"events": [${nestedJson(MAX_DEPTH)}, ${tooDeep}]}`);
      expect(reply.status).to.equal(202);
      expect(reply.body.results.map((result: { status: number }) => result.status)).to.deep.equal([202, 400]);
      expect(reply.body.results[1].problem.errors[0].pointer).to.equal(`/events/1${where}`);
    });

    it(`is not reached at ${MAX_DEPTH} levels, which are stored and projected`, async () => {
      const registered = await app.commands.post('/events', nestedJson(MAX_DEPTH));
      expect(registered.status).to.equal(202);
      const decided = await app.queries.get(`/events/${registered.body.id}?wait=5`);
      expect(decided.body.status).to.equal('skipped');
      expect(JSON.stringify(decided.body.document)).to.equal(nestedJson(MAX_DEPTH));
    });
  });

  describe('NUL in the URL', () => {
    it('is refused in path parameters of both APIs, naming the parameter', async () => {
      expectRefused(await app.queries.get('/events/%00'), '/path/id', /NUL/);
      expectRefused(await app.queries.get('/events/a%00b?wait=1'), '/path/id', /NUL/);
      expectRefused(await app.queries.get('/campaigns/%00'), '/path/id', /NUL/);
      expectRefused(await app.queries.get('/streams/%00'), '/path/streamId', /NUL/);
      expectRefused(await app.commands.post('/campaigns/%00/activate'), '/path/id', /NUL/);
      expectRefused(await app.commands.post('/campaigns/%00/rules', { conditions: {}, reward: { type: 'fixed', amount: 1 } }), '/path/id', /NUL/);
      expectRefused(await app.commands.delete('/campaigns/x/rules/%00'), '/path/ruleId', /NUL/);
    });

    it('is refused in the query string of both APIs, naming the parameter', async () => {
      expectRefused(await app.queries.get('/earnings?beneficiaryId=%00'), '/query/beneficiaryId', /NUL/);
      expectRefused(await app.queries.get('/earnings?campaignId=x%00'), '/query/campaignId', /NUL/);
      expectRefused(await app.queries.get('/earnings?beneficiaryId=a&beneficiaryId=%00'), '/query/beneficiaryId/1', /NUL/);
      expectRefused(await app.commands.post('/events/simulate?minPosition=%00', {}), '/query/minPosition', /NUL/);
    });

    it('leaves a lone surrogate no way in: it does not decode (400)', async () => {
      for (const reply of [await app.queries.get('/events/%ED%A0%80'), await app.commands.post('/campaigns/%ED%B0%80/pause')]) {
        expect(reply.status).to.equal(400);
        expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
      }
      // The query string decodes invalid UTF-8 to U+FFFD, which is stored as it is.
      expect((await app.queries.get('/earnings?beneficiaryId=%ED%A0%80')).status).to.equal(200);
    });

    it('still serves the same routes with ordinary parameters', async () => {
      expect((await app.queries.get(`/campaigns/${campaignId}`)).status).to.be.oneOf([200, 404]);
      expect((await app.queries.get('/earnings?beneficiaryId=C-1')).status).to.equal(200);
      expect((await app.commands.post(`/campaigns/${campaignId}/pause`)).status).to.equal(200);
    });
  });
});
