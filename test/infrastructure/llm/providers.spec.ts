import { expect } from 'chai';
import { toProblem } from '../../../infrastructure/http/problem.ts';
import { OFFLINE_MODEL } from '../../../infrastructure/llm/offline-provider.ts';
import { ProviderNotAllowedError } from '../../../infrastructure/llm/provider-not-allowed-error.ts';
import { startFakeOpenAi } from '../../support/fake-llm/fake-openai-server.ts';
import { useFakeLlmServers } from '../../support/fake-llm/fake-llm-servers.ts';
import { testGateway } from '../../support/llm-test-gateway.ts';

/** Each provider through its real SDK client, against a local server that speaks its API. */
describe('LLM providers', () => {
  const servers = useFakeLlmServers();

  it('openai: sends a chat completion and reads the text and token counts from usage', async () => {
    servers.openai.script({ answer: 'Spring is here.', inputTokens: 12, outputTokens: 4, model: 'gpt-4o-mini-2024-07-18' });
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    const generated = await gateway.generate({ prompt: 'Describe spring', system: 'Be brief', maxTokens: 50, temperature: 0.2 });
    expect(generated).to.deep.equal({
      text: 'Spring is here.', model: 'gpt-4o-mini-2024-07-18', provider: 'openai', tokenCount: 16, inputTokens: 12, outputTokens: 4, cached: false,
    });
    const [request] = servers.openai.completions();
    expect(request?.body).to.deep.equal({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Describe spring' }],
      max_completion_tokens: 50,
      temperature: 0.2,
    });
    // The SDK's own retries are off: the gateway's policy is the only one, and it says which attempt this is.
    expect(request?.headers['x-stainless-retry-count']).to.equal('0');
    await gateway.close();
  });

  it('anthropic: sends a message and reads the text and token counts from usage', async () => {
    servers.anthropic.script({ answer: 'Autumn leaves.', inputTokens: 20, outputTokens: 5, model: 'claude-haiku-4-5-20251001' });
    const gateway = testGateway({ anthropic: servers.anthropic, fallback: ['anthropic'] });
    const generated = await gateway.generate({ prompt: 'Describe autumn', system: 'Be brief' });
    expect(generated).to.deep.equal({
      text: 'Autumn leaves.', model: 'claude-haiku-4-5-20251001', provider: 'anthropic', tokenCount: 25, inputTokens: 20, outputTokens: 5, cached: false,
    });
    expect(servers.anthropic.completions()[0]?.body).to.deep.equal({
      model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Describe autumn' }], system: 'Be brief',
    });
    await gateway.close();
  });

  it('uses the requested model for the provider asked first, and the configured ones for the fallbacks', async () => {
    servers.openai.script({ status: 400, message: 'no such model' });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'] });
    const generated = await gateway.generate({ prompt: 'hi', model: 'gpt-4.1-nano' });
    expect((servers.openai.completions()[0]?.body as { model: string }).model).to.equal('gpt-4.1-nano');
    expect((servers.anthropic.completions()[0]?.body as { model: string }).model).to.equal('claude-haiku-4-5');
    expect(generated.provider).to.equal('anthropic');
    await gateway.close();
  });

  it('asks the requested provider first, then the rest of the chain', async () => {
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'] });
    expect((await gateway.generate({ prompt: 'hi', provider: 'anthropic' })).provider).to.equal('anthropic');
    expect(servers.openai.completions()).to.have.length(0);
    await gateway.close();
  });

  it('refuses a requested provider left out of the chain, even with a key, naming the allowed ones: a 400 on /provider', async () => {
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'offline'] });
    const error = await gateway.generate({ prompt: 'hi', provider: 'anthropic' }).then(() => expect.fail('expected a refusal'), (thrown: unknown) => thrown);
    expect(error).to.be.instanceOf(ProviderNotAllowedError);
    const problem = toProblem(error);
    expect(problem).to.include({ status: 400 });
    expect(problem?.detail).to.equal('provider "anthropic" is not in LLM_FALLBACK; allowed: openai, offline');
    expect(problem?.errors).to.deep.equal([{ pointer: '/provider', message: problem?.detail }]);
    expect(servers.anthropic.completions()).to.have.length(0);
    expect(servers.openai.completions()).to.have.length(0);
    await gateway.close();
  });

  it('offline: the same request gives the same text, another request another, with word counts for tokens', async () => {
    const gateway = testGateway({ fallback: ['offline'] });
    const first = await gateway.generate({ prompt: 'Thank  Ada for her purchase', useCache: false });
    const again = await gateway.generate({ prompt: 'Thank  Ada for her purchase', useCache: false });
    const other = await gateway.generate({ prompt: 'Thank Grace for her purchase', useCache: false });
    expect(again).to.deep.equal(first);
    expect(first).to.include({ provider: 'offline', model: OFFLINE_MODEL, inputTokens: 5, cached: false });
    expect(first.text).to.include('Thank Ada for her purchase');
    expect(first.tokenCount).to.equal(first.inputTokens + first.outputTokens);
    expect(other.text).to.include('Grace').and.not.equal(first.text);
    const short = await gateway.generate({ prompt: 'one two three four five six seven eight', maxTokens: 3, useCache: false });
    expect(short.outputTokens).to.equal(3);
    await gateway.close();
  });

  it('with no key anywhere the default chain answers offline', async () => {
    const gateway = testGateway({});
    expect((await gateway.generate({ prompt: 'hello' })).provider).to.equal('offline');
    await gateway.close();
  });

  it('lists each provider: configured, model, and reachable by its models list within a short timeout', async () => {
    servers.anthropic.modelsStep = { hang: 'before-headers' };
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['anthropic', 'openai'] });
    const providers = await gateway.providers();
    expect(providers).to.deep.equal([
      { provider: 'anthropic', configured: true, model: 'claude-haiku-4-5', reachable: false, error: 'no answer within 500 ms' },
      { provider: 'openai', configured: true, model: 'gpt-4o-mini', reachable: true },
      { provider: 'offline', configured: true, model: OFFLINE_MODEL, reachable: true },
    ]);
    expect(servers.openai.requests.map((request) => request.path)).to.deep.equal(['/v1/models']);
    await gateway.close();
  });

  it('reports a provider without a key as not configured, and one that refuses the key as unreachable', async () => {
    const wrongKey = await startFakeOpenAi('another-key');
    const gateway = testGateway({ openai: { ...wrongKey, apiKey: 'test-key' } });
    const providers = await gateway.providers();
    expect(providers[0]).to.include({ provider: 'openai', configured: true, reachable: false });
    expect(providers[0]?.error).to.match(/401/);
    expect(providers[1]).to.deep.equal({ provider: 'anthropic', configured: false, model: 'claude-haiku-4-5', reachable: false, error: 'ANTHROPIC_API_KEY is not set' });
    await gateway.close();
    await wrongKey.close();
  });
});
