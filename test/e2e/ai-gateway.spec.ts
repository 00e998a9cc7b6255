import { expect } from 'chai';
import { startFakeAnthropic } from '../support/fake-llm/fake-anthropic-server.ts';
import { startFakeOpenAi } from '../support/fake-llm/fake-openai-server.ts';
import type { FakeLlmServer } from '../support/fake-llm/scripted-llm-server.ts';
import { httpClient } from '../support/http-client.ts';
import { redisServerMissing, startRedisTestServer, type RedisTestServer } from '../support/redis-test-server.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

type Running = Awaited<ReturnType<typeof runTally>>;

const PROBLEM = 'application/problem+json';

/** The /ai routes of the command API over real HTTP, with the real SDK clients against local fake providers. */
describe('AI gateway over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let openai: FakeLlmServer;
  let anthropic: FakeLlmServer;
  let app: Running;
  before(async () => {
    database = await createTestDatabase();
    openai = await startFakeOpenAi();
    anthropic = await startFakeAnthropic();
    app = await runTally(database.url, {
      roles: ['command'],
      env: {
        OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl,
        ANTHROPIC_API_KEY: anthropic.apiKey, ANTHROPIC_BASE_URL: anthropic.baseUrl,
        LLM_FALLBACK: 'openai,anthropic', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '2000',
      },
    });
  });
  after(async () => {
    await app?.stop();
    await openai?.close();
    await anthropic?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    openai.fallbackStep = { answer: 'fake answer', inputTokens: 7, outputTokens: 3 };
    await app.commands.post('/ai/cache/clear');
  });

  it('generates, with token counts, and answers the same request again from the cache', async () => {
    openai.script({ answer: 'Spring deals are here!', inputTokens: 11, outputTokens: 5, model: 'gpt-4o-mini-2024-07-18' });
    const before = openai.completions().length;
    const first = await app.commands.post('/ai/generate', { prompt: 'Announce the spring sale', system: 'You write short copy', maxTokens: 60, temperature: 0.3 });
    expect(first.status).to.equal(200);
    expect(first.body).to.deep.equal({
      text: 'Spring deals are here!', model: 'gpt-4o-mini-2024-07-18', provider: 'openai', tokenCount: 16, inputTokens: 11, outputTokens: 5, cached: false,
    });
    const second = await app.commands.post('/ai/generate', { prompt: 'Announce the spring sale', system: 'You write short copy', maxTokens: 60, temperature: 0.3 });
    expect(second.body).to.deep.equal({ ...first.body, cached: true });
    const bypass = await app.commands.post('/ai/generate', { prompt: 'Announce the spring sale', system: 'You write short copy', maxTokens: 60, temperature: 0.3, useCache: false });
    expect(bypass.body.cached).to.equal(false);
    expect(openai.completions().length - before).to.equal(2);
  });

  it('asks the provider named first', async () => {
    const reply = await app.commands.post('/ai/generate', { prompt: 'hi', provider: 'anthropic', model: 'claude-sonnet-4-6' });
    expect(reply.body).to.include({ provider: 'anthropic', model: 'claude-sonnet-4-6' });
  });

  it('refuses a provider left out of LLM_FALLBACK with a 400 problem naming the allowed ones', async () => {
    const reply = await app.commands.post('/ai/generate', { prompt: 'hi', provider: 'offline' });
    expect(reply.status).to.equal(400);
    expect(reply.headers.get('content-type')).to.include(PROBLEM);
    expect(reply.body.detail).to.equal('provider "offline" is not in LLM_FALLBACK; allowed: openai, anthropic');
    expect(reply.body.errors[0].pointer).to.equal('/provider');
  });

  it('refuses bad bodies with a 400 problem naming each field, asking no provider', async () => {
    const before = openai.completions().length + anthropic.completions().length;
    const cases: [unknown, string][] = [
      [{}, '/prompt'],
      [{ prompt: '   ' }, '/prompt'],
      [{ prompt: 42 }, '/prompt'],
      [{ prompt: 'hi', provider: 'gemini' }, '/provider'],
      [{ prompt: 'hi', maxTokens: 0 }, '/maxTokens'],
      [{ prompt: 'hi', maxTokens: 1.5 }, '/maxTokens'],
      [{ prompt: 'hi', temperature: 3 }, '/temperature'],
      [{ prompt: 'hi', useCache: 'yes' }, '/useCache'],
      [{ prompt: 'hi', colour: 'blue' }, '/colour'],
      [{ prompt: 'hi', model: '' }, '/model'],
    ];
    for (const [body, pointer] of cases) {
      const reply = await app.commands.post('/ai/generate', body);
      expect(reply.status, JSON.stringify(body)).to.equal(400);
      expect(reply.headers.get('content-type')).to.include(PROBLEM);
      expect(reply.body.errors.map((error: { pointer: string }) => error.pointer), JSON.stringify(body)).to.include(pointer);
    }
    const notJson = await app.commands.post('/ai/generate', '{"prompt": ', { 'content-type': 'application/json' });
    expect(notJson.status).to.equal(400);
    expect(openai.completions().length + anthropic.completions().length).to.equal(before);
  });

  it('needs the API credentials on every /ai route', async () => {
    const anonymous = httpClient(`http://127.0.0.1:${app.tally.commandPort}`, null);
    expect((await anonymous.post('/ai/generate', { prompt: 'hi' })).status).to.equal(401);
    expect((await anonymous.get('/ai/providers')).status).to.equal(401);
    expect((await anonymous.post('/ai/cache/clear')).status).to.equal(401);
    expect((await anonymous.get('/ai/cache/health')).status).to.equal(401);
  });

  it('answers 502 problem+json naming each provider when every one fails', async () => {
    openai.fallbackStep = { status: 500, message: 'openai exploded' };
    anthropic.script({ status: 400, message: 'anthropic refuses' });
    const reply = await app.commands.post('/ai/generate', { prompt: 'fail please' });
    expect(reply.status).to.equal(502);
    expect(reply.headers.get('content-type')).to.include(PROBLEM);
    expect(reply.body).to.include({ type: 'about:blank', title: 'Bad Gateway', status: 502 });
    const [first, second] = reply.body.providers;
    expect(first).to.deep.equal({ provider: 'openai', error: 'server-error (HTTP 500: openai exploded)' });
    expect(second.provider).to.equal('anthropic');
    expect(second.error).to.match(/^refused \(HTTP 400: anthropic refuses/);
    expect(reply.body.detail).to.include('openai exploded').and.include('anthropic refuses');
  });

  it('lists the providers, clears the cache by count, and reports its health', async () => {
    const providers = await app.commands.get('/ai/providers');
    expect(providers.status).to.equal(200);
    expect(providers.body.providers).to.deep.equal([
      { provider: 'openai', configured: true, model: 'gpt-4o-mini', reachable: true },
      { provider: 'anthropic', configured: true, model: 'claude-haiku-4-5', reachable: true },
      { provider: 'offline', configured: true, model: 'tally-offline-template-1', reachable: true },
    ]);
    await app.commands.post('/ai/generate', { prompt: 'one' });
    await app.commands.post('/ai/generate', { prompt: 'two' });
    expect((await app.commands.post('/ai/cache/clear')).body).to.deep.equal({ cleared: 2 });
    expect((await app.commands.post('/ai/generate', { prompt: 'one' })).body.cached).to.equal(false);
    expect((await app.commands.get('/ai/cache/health')).body).to.deep.equal({ status: 'ok', kind: 'memory' });
    expect((await app.commands.get('/health')).body.cache).to.deep.equal({ status: 'ok', kind: 'memory' });
  });

  it('describes the /ai routes in /openapi.json', async () => {
    const { body } = await app.commands.get('/openapi.json');
    expect(body.paths).to.include.keys('/ai/generate', '/ai/providers', '/ai/cache/clear', '/ai/cache/health');
    expect(body.paths['/ai/generate'].post.requestBody.content['application/json'].schema.required).to.deep.equal(['prompt']);
  });

  it('answers 503 problem+json when no provider of the chain is configured, and offline with no keys by default', async () => {
    const bare = await runTally(database.url, { roles: ['command'], env: { LLM_FALLBACK: 'openai,anthropic' } });
    try {
      const reply = await bare.commands.post('/ai/generate', { prompt: 'hi' });
      expect(reply.status).to.equal(503);
      expect(reply.headers.get('retry-after')).to.equal('5');
      expect(reply.body.providers.map(({ provider }: { provider: string }) => provider)).to.deep.equal(['openai', 'anthropic']);
    } finally {
      await bare.stop();
    }
    const defaults = await runTally(database.url, { roles: ['command'] });
    try {
      const reply = await defaults.commands.post('/ai/generate', { prompt: 'Thank Ada' });
      expect(reply.body).to.include({ provider: 'offline', cached: false });
      expect((await defaults.commands.post('/ai/generate', { prompt: 'Thank Ada' })).body).to.deep.equal({ ...reply.body, cached: true });
    } finally {
      await defaults.stop();
    }
  });
});

describe('AI gateway over HTTP, with Redis going away', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let redis: RedisTestServer;
  let app: Running;
  before(async function () {
    const missing = redisServerMissing();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    database = await createTestDatabase();
    redis = await startRedisTestServer();
    app = await runTally(database.url, { env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    await app?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('keeps generating while Redis is down, says degraded on /ai/cache/health and /health (whose status does not change), and caches again once it is back', async () => {
    const polling = { intervalMs: 100, detail: JSON.stringify };
    const healthy = await until('/health is 200 with the cache in Redis', () => app.commands.get('/health'), { ...polling, ok: (reply) => reply.status === 200 && reply.body.cache?.status === 'ok' });
    expect(healthy.body.cache).to.deep.equal({ status: 'ok', kind: 'redis' });
    expect(healthy.body.warnings).to.not.have.property('cache');
    await app.commands.post('/ai/generate', { prompt: 'before' });
    expect((await app.commands.post('/ai/generate', { prompt: 'before' })).body.cached).to.equal(true);

    await redis.stop();
    try {
      const during = await app.commands.post('/ai/generate', { prompt: 'during' });
      expect(during.status).to.equal(200);
      expect(during.body).to.include({ provider: 'offline', cached: false });
      const cacheHealth = await app.commands.get('/ai/cache/health');
      expect(cacheHealth.status).to.equal(200);
      expect(cacheHealth.body).to.include({ status: 'degraded', kind: 'redis' });
      expect(cacheHealth.body.error).to.be.a('string').and.match(/\S/);
      const health = await app.commands.get('/health');
      expect(health.status).to.equal(200);
      expect(health.body.cache).to.include({ status: 'degraded' });
      expect(health.body.warnings.cache).to.match(/LLM response cache is degraded/);
      const clear = await app.commands.post('/ai/cache/clear');
      expect(clear.status).to.equal(503);
      expect(clear.headers.get('content-type')).to.include(PROBLEM);
    } finally {
      await redis.start();
    }
    await until('the cache is back', () => app.commands.get('/ai/cache/health'), { ...polling, ok: (reply) => reply.body.status === 'ok' });
    expect((await app.commands.post('/ai/generate', { prompt: 'after' })).body.cached).to.equal(false);
    expect((await app.commands.post('/ai/generate', { prompt: 'after' })).body.cached).to.equal(true);
    expect((await app.commands.get('/health')).body.warnings).to.not.have.property('cache');
  });
});
