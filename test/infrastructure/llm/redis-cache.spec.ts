import { expect } from 'chai';
import { Redis } from 'ioredis';
import { toProblem } from '../../../infrastructure/http/problem.ts';
import { cacheKey } from '../../../infrastructure/llm/cache-key.ts';
import { CacheUnavailableError } from '../../../infrastructure/llm/cache-unavailable-error.ts';
import { DEFAULT_MAX_TOKENS } from '../../../infrastructure/llm/llm-gateway.ts';
import { redisCache } from '../../../infrastructure/llm/redis-cache.ts';
import type { ResponseCache } from '../../../infrastructure/llm/response-cache.ts';
import { startFakeAnthropic } from '../../support/fake-llm/fake-anthropic-server.ts';
import { startFakeOpenAi } from '../../support/fake-llm/fake-openai-server.ts';
import type { FakeLlmServer } from '../../support/fake-llm/scripted-llm-server.ts';
import { testGateway } from '../../support/llm-test-gateway.ts';
import { redisServerMissing, startRedisTestServer, type RedisTestServer } from '../../support/redis-test-server.ts';
import { silentLogger } from '../../support/silent-logger.ts';
import { until } from '../../support/until.ts';

/** Short waits, so that an outage and a recovery each take a moment. */
const cacheOn = (redis: RedisTestServer, scanCount?: number): ResponseCache =>
  redisCache({ url: redis.url, ttlSeconds: 3600, logger: silentLogger, commandTimeoutMs: 250, connectTimeoutMs: 500, reconnectMaxDelayMs: 100, ...(scanCount ? { scanCount } : {}) });

/** The response cache in a Redis of the test's own, which it stops, freezes and restarts. */
describe('LLM gateway: the response cache in Redis', function () {
  this.timeout(30_000);
  let redis: RedisTestServer;
  let openai: FakeLlmServer;
  let admin: Redis;
  before(async function () {
    const missing = redisServerMissing();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    redis = await startRedisTestServer();
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    openai = await startFakeOpenAi();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await admin.flushdb(); // the test's own server: nothing else lives there
  });
  afterEach(async () => {
    redis.resume();
    admin.disconnect();
    await openai.close();
  });

  const healthy = async (cache: ResponseCache): Promise<void> => {
    await until('the cache is healthy', () => cache.health().status === 'ok', { timeoutMs: 10_000 });
  };

  it('answers the second identical request from Redis, shared by every gateway on it, with the TTL of CACHE_TTL', async () => {
    const cache = cacheOn(redis);
    const gateway = testGateway({ openai, fallback: ['openai'], cache });
    await healthy(cache);
    expect((await gateway.generate({ prompt: 'hi' })).cached).to.equal(false);
    expect((await gateway.generate({ prompt: 'hi' })).cached).to.equal(true);
    const key = cacheKey('openai', openai.baseUrl, { prompt: 'hi', model: 'gpt-4o-mini', maxTokens: DEFAULT_MAX_TOKENS });
    expect(await admin.ttl(key)).to.be.within(3590, 3600);
    const otherCache = cacheOn(redis);
    const other = testGateway({ openai, fallback: ['openai'], cache: otherCache });
    await healthy(otherCache);
    expect((await other.generate({ prompt: 'hi' })).cached).to.equal(true);
    expect(openai.completions()).to.have.length(1);
    await gateway.close();
    await other.close();
  });

  it('goes on uncached while Redis is down, says degraded, and caches again by itself once it is back', async () => {
    const cache = cacheOn(redis);
    const gateway = testGateway({ openai, fallback: ['openai'], cache });
    await healthy(cache);
    await redis.stop();
    try {
      const started = Date.now();
      expect(await gateway.generate({ prompt: 'during' })).to.include({ provider: 'openai', cached: false });
      expect(await gateway.generate({ prompt: 'during' })).to.include({ cached: false });
      expect(Date.now() - started).to.be.below(1000);
      const health = gateway.cacheHealth();
      expect(health).to.include({ status: 'degraded', kind: 'redis' });
      expect((health as { error: string }).error).to.be.a('string').and.match(/\S/);
      await gateway.clearCache().then(() => expect.fail('clearing needs Redis'), (error: unknown) => {
        expect(error).to.be.instanceOf(CacheUnavailableError);
        expect(toProblem(error)).to.include({ status: 503 });
      });
    } finally {
      await redis.start();
    }
    await healthy(cache);
    expect((await gateway.generate({ prompt: 'after' })).cached).to.equal(false);
    expect((await gateway.generate({ prompt: 'after' })).cached).to.equal(true);
    await gateway.close();
  });

  it('never waits longer than the command timeout for a Redis that stops answering', async () => {
    const cache = cacheOn(redis);
    const gateway = testGateway({ openai, fallback: ['openai'], cache });
    await healthy(cache);
    redis.pause();
    try {
      const started = Date.now();
      expect(await gateway.generate({ prompt: 'frozen' })).to.include({ cached: false });
      // The first read is cut at 250 ms; the write after it is skipped, the cache being degraded by then.
      expect(Date.now() - started).to.be.below(1000);
      expect(gateway.cacheHealth()).to.include({ status: 'degraded' });
    } finally {
      redis.resume();
    }
    await until('a command succeeds again', async () => (await gateway.generate({ prompt: 'thawed' })).cached, { timeoutMs: 10_000 });
    expect(gateway.cacheHealth()).to.deep.equal({ status: 'ok', kind: 'redis' });
    await gateway.close();
  });

  it('while degraded asks Redis nothing (one short wait at most, whatever the providers tried), and a probe brings caching back by itself', async () => {
    const anthropic = await startFakeAnthropic();
    const cache = cacheOn(redis);
    const gateway = testGateway({ openai, anthropic, fallback: ['openai', 'anthropic', 'offline'], cache });
    try {
      await healthy(cache);
      openai.fallbackStep = { status: 400 };
      anthropic.fallbackStep = { status: 400 };
      redis.pause();
      try {
        let started = Date.now();
        // Three providers read the cache and the offline one writes it: only the first read waits (250 ms), then Redis is skipped.
        expect(await gateway.generate({ prompt: 'frozen' })).to.include({ provider: 'offline', cached: false });
        expect(Date.now() - started).to.be.below(500);
        started = Date.now();
        expect(await gateway.generate({ prompt: 'frozen' })).to.include({ provider: 'offline', cached: false });
        expect(Date.now() - started).to.be.below(150);
        expect(cache.health()).to.include({ status: 'degraded' });
      } finally {
        redis.resume();
      }
      // No request needed: the background probe finds Redis answering again.
      await healthy(cache);
      openai.fallbackStep = { answer: 'thawed' };
      expect(await gateway.generate({ prompt: 'after' })).to.include({ provider: 'openai', cached: false });
      expect(await gateway.generate({ prompt: 'after' })).to.include({ provider: 'openai', cached: true });
    } finally {
      await gateway.close();
      await anthropic.close();
    }
  });

  it("clears only Tally's keys (tally:llm:*), in batches, leaving every other key", async () => {
    const cache = cacheOn(redis, 100);
    await healthy(cache);
    const keys = Array.from({ length: 450 }, (_, index) => `tally:llm:${index}`);
    await admin.mset(...keys.flatMap((key) => [key, '{}']));
    await admin.set('other-app:llm:1', 'keep');
    await admin.set('tally:llmx', 'keep');
    await admin.set('tally:other', 'keep');
    expect(await cache.clear()).to.equal(450);
    expect((await admin.keys('*')).sort()).to.deep.equal(['other-app:llm:1', 'tally:llmx', 'tally:other']);
    await cache.close();
  });

  it('takes a value it cannot read under its key for a miss', async () => {
    const cache = cacheOn(redis);
    const gateway = testGateway({ openai, fallback: ['openai'], cache });
    await healthy(cache);
    await admin.set(cacheKey('openai', openai.baseUrl, { prompt: 'odd', model: 'gpt-4o-mini', maxTokens: DEFAULT_MAX_TOKENS }), 'not json');
    expect((await gateway.generate({ prompt: 'odd' })).cached).to.equal(false);
    expect((await gateway.generate({ prompt: 'odd' })).cached).to.equal(true);
    await gateway.close();
  });
});
