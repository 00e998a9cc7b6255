import { expect } from 'chai';
import { cacheKey, CACHE_KEY_PREFIX } from '../../../infrastructure/llm/cache-key.ts';
import { DEFAULT_MAX_TOKENS } from '../../../infrastructure/llm/llm-gateway.ts';
import type { ProviderCall } from '../../../infrastructure/llm/llm-provider.ts';
import { memoryCache } from '../../../infrastructure/llm/memory-cache.ts';
import { startFakeOpenAi } from '../../support/fake-llm/fake-openai-server.ts';
import { useFakeLlmServers } from '../../support/fake-llm/fake-llm-servers.ts';
import { testGateway } from '../../support/llm-test-gateway.ts';

describe('LLM gateway: the response cache (in process)', () => {
  const servers = useFakeLlmServers();

  it('answers the second identical request from the cache, without asking the provider again', async () => {
    servers.openai.script({ answer: 'once', inputTokens: 10, outputTokens: 2 });
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    const first = await gateway.generate({ prompt: 'hi', system: 'terse', temperature: 0 });
    const second = await gateway.generate({ prompt: 'hi', system: 'terse', temperature: 0 });
    expect(first.cached).to.equal(false);
    expect(second).to.deep.equal({ ...first, cached: true });
    expect(servers.openai.completions()).to.have.length(1);
    await gateway.close();
  });

  it('asks again when anything that shapes the answer differs', async () => {
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    const base = { prompt: 'hi', system: 's', maxTokens: 10, temperature: 0.5 };
    await gateway.generate(base);
    for (const change of [{ prompt: 'ho' }, { system: 't' }, { maxTokens: 11 }, { temperature: 0.6 }, { model: 'gpt-4.1-mini' }]) {
      expect((await gateway.generate({ ...base, ...change })).cached, JSON.stringify(change)).to.equal(false);
    }
    expect(servers.openai.completions()).to.have.length(6);
    await gateway.close();
  });

  it('with useCache false neither reads nor writes the cache', async () => {
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    await gateway.generate({ prompt: 'hi', useCache: false });
    expect((await gateway.generate({ prompt: 'hi' })).cached).to.equal(false); // nothing was written
    expect((await gateway.generate({ prompt: 'hi', useCache: false })).cached).to.equal(false); // nor read
    expect((await gateway.generate({ prompt: 'hi' })).cached).to.equal(true);
    expect(servers.openai.completions()).to.have.length(3);
    await gateway.close();
  });

  it("caches the fallback's answer under its own key, and serves it only when the providers before it fail", async () => {
    servers.openai.script({ status: 500 }, { status: 500 }, { status: 500 }, { status: 400 });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'] });
    const during = await gateway.generate({ prompt: 'hi' });
    expect(during).to.include({ provider: 'anthropic', cached: false });
    // OpenAI still down (asked again, live): anthropic's answer comes from the cache, without a call.
    expect(await gateway.generate({ prompt: 'hi' })).to.deep.equal({ ...during, cached: true });
    expect(servers.openai.completions()).to.have.length(4);
    // OpenAI back: its fresh answer wins over anthropic's cached one.
    expect(await gateway.generate({ prompt: 'hi' })).to.include({ provider: 'openai', cached: false });
    expect(servers.anthropic.completions()).to.have.length(1);
    await gateway.close();
  });

  it("keys answers by the provider's base URL too: another server of the same provider on the same cache is asked", async () => {
    const shared = memoryCache({ ttlSeconds: 3600 });
    const other = await startFakeOpenAi();
    try {
      servers.openai.script({ answer: 'from the first' });
      other.script({ answer: 'from the second' });
      const first = testGateway({ openai: servers.openai, fallback: ['openai'], cache: shared });
      const second = testGateway({ openai: other, fallback: ['openai'], cache: shared });
      expect(await first.generate({ prompt: 'hi' })).to.include({ text: 'from the first', cached: false });
      expect(await second.generate({ prompt: 'hi' })).to.include({ text: 'from the second', cached: false });
      expect(await first.generate({ prompt: 'hi' })).to.include({ text: 'from the first', cached: true });
      expect(other.completions()).to.have.length(1);
    } finally {
      await other.close();
    }
  });

  it('takes a blank answer found in the cache (written by an older Tally) for a miss, and replaces it', async () => {
    const cache = memoryCache({ ttlSeconds: 3600 });
    const key = cacheKey('openai', servers.openai.baseUrl, { prompt: 'hi', model: 'gpt-4o-mini', maxTokens: DEFAULT_MAX_TOKENS });
    await cache.set(key, { text: ' ', model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 0 });
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'], cache });
    expect(await gateway.generate({ prompt: 'hi' })).to.include({ text: 'fake answer', cached: false });
    expect(await cache.get(key)).to.include({ text: 'fake answer' });
    await gateway.close();
  });

  it('clears only its own entries, and counts them', async () => {
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    await gateway.generate({ prompt: 'a' });
    await gateway.generate({ prompt: 'b' });
    expect(await gateway.clearCache()).to.equal(2);
    expect((await gateway.generate({ prompt: 'a' })).cached).to.equal(false);
    expect(gateway.cacheHealth()).to.deep.equal({ status: 'ok', kind: 'memory' });
    await gateway.close();
  });

  it('expires entries after the TTL, and caches nothing with a TTL of 0', async () => {
    const short = testGateway({ openai: servers.openai, fallback: ['openai'], cache: memoryCache({ ttlSeconds: 1 }) });
    await short.generate({ prompt: 'hi' });
    expect((await short.generate({ prompt: 'hi' })).cached).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await short.generate({ prompt: 'hi' })).cached).to.equal(false);
    const none = testGateway({ openai: servers.openai, fallback: ['openai'], cache: memoryCache({ ttlSeconds: 0 }) });
    await none.generate({ prompt: 'x' });
    expect((await none.generate({ prompt: 'x' })).cached).to.equal(false);
    await short.close();
    await none.close();
  });

  it('keys are tally:llm: and a SHA-256 over provider, base URL, model, prompt, system, max tokens and temperature, that cannot run together', () => {
    const call: ProviderCall = { prompt: 'ab', system: 'c', model: 'm', maxTokens: 5, temperature: 0 };
    const url = 'https://api.openai.com/v1';
    const key = cacheKey('openai', url, call);
    expect(key).to.match(new RegExp(`^${CACHE_KEY_PREFIX}[0-9a-f]{64}$`));
    expect(cacheKey('openai', url, { ...call })).to.equal(key);
    expect(cacheKey('anthropic', url, call)).to.not.equal(key);
    expect(cacheKey('openai', 'http://localhost:8080/v1', call)).to.not.equal(key);
    expect(cacheKey('openai', undefined, call)).to.not.equal(key);
    expect(cacheKey('openai', url, { ...call, prompt: 'a', system: 'bc' })).to.not.equal(key);
    expect(cacheKey('openai', url, { ...call, temperature: undefined })).to.not.equal(key);
  });
});
