import { expect } from 'chai';
import { toProblem } from '../../../infrastructure/http/problem.ts';
import { AllProvidersFailedError } from '../../../infrastructure/llm/all-providers-failed-error.ts';
import { capturedLogger, WARN } from '../../support/captured-logger.ts';
import { startFakeOpenAi } from '../../support/fake-llm/fake-openai-server.ts';
import { useFakeLlmServers } from '../../support/fake-llm/fake-llm-servers.ts';
import { testGateway } from '../../support/llm-test-gateway.ts';

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);

/** Timeouts, the one retry policy, and the fallback chain, against providers that misbehave in every way they do. */
describe('LLM gateway: retries, timeouts and fallback', () => {
  const servers = useFakeLlmServers();

  it('retries a 429 after the Retry-After it was given, then takes the answer', async () => {
    servers.openai.script({ status: 429, retryAfter: '0.3' }, { answer: 'after the wait' });
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    const generated = await gateway.generate({ prompt: 'hi' });
    expect(generated).to.include({ text: 'after the wait', provider: 'openai' });
    const [first, second] = servers.openai.completions();
    expect(second!.at - first!.at).to.be.at.least(300);
    expect(second!.headers['x-stainless-retry-count']).to.equal('0'); // the SDK did not retry: the gateway did
    await gateway.close();
  });

  it('does not wait out a Retry-After longer than the cap: the next provider answers now', async () => {
    servers.openai.script({ status: 429, retryAfter: '3600' });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'] });
    const started = Date.now();
    expect((await gateway.generate({ prompt: 'hi' })).provider).to.equal('anthropic');
    expect(Date.now() - started).to.be.below(1500);
    expect(servers.openai.completions()).to.have.length(1);
    await gateway.close();
  });

  it('retries a 500 with backoff, and falls back to the next provider when it keeps failing', async () => {
    servers.openai.fallbackStep = { status: 500 };
    const { logger, entries } = capturedLogger();
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'], retry: { retries: 2 }, logger });
    const generated = await gateway.generate({ prompt: 'hi' });
    expect(generated.provider).to.equal('anthropic');
    expect(servers.openai.completions()).to.have.length(3);
    expect(entries.find((entry) => entry.level === WARN && entry.provider === 'openai')?.error).to.match(/server-error \(HTTP 500: .*\) after 3 attempts/);
    await gateway.close();
  });

  it('recovers from a 5xx on a retry without falling back', async () => {
    servers.anthropic.script({ status: 503 }, { status: 502 }, { answer: 'third time' });
    const gateway = testGateway({ anthropic: servers.anthropic, fallback: ['anthropic', 'offline'] });
    expect(await gateway.generate({ prompt: 'hi' })).to.include({ text: 'third time', provider: 'anthropic' });
    await gateway.close();
  });

  it('never retries another 4xx: the same request would be refused again', async () => {
    servers.openai.script({ status: 400, message: 'bad request' });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'] });
    expect((await gateway.generate({ prompt: 'hi' })).provider).to.equal('anthropic');
    expect(servers.openai.completions()).to.have.length(1);
    await gateway.close();
  });

  it('retries a provider that cannot be reached (connection refused), then falls back', async () => {
    const gone = await startFakeOpenAi();
    await gone.close();
    const gateway = testGateway({ openai: gone, fallback: ['openai', 'offline'] });
    const { provider } = await gateway.generate({ prompt: 'hi' });
    expect(provider).to.equal('offline');
    await gateway.close();
  });

  for (const hang of ['before-headers', 'after-headers'] as const) {
    it(`times out a provider that hangs (${hang}) and falls back to the next, without retrying it`, async () => {
      servers.openai.script({ hang });
      const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'], timeoutMs: 300 });
      const started = Date.now();
      const generated = await gateway.generate({ prompt: 'hi' });
      expect(generated.provider).to.equal('anthropic');
      expect(Date.now() - started).to.be.within(300, 1500);
      expect(servers.openai.completions()).to.have.length(1);
      await gateway.close();
    });
  }

  it('falls back when the answer is not JSON, or is JSON without text', async () => {
    servers.openai.script({ malformed: true });
    servers.anthropic.script({ body: { id: 'msg', type: 'message', content: [] } });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic', 'offline'] });
    expect((await gateway.generate({ prompt: 'hi' })).provider).to.equal('offline');
    expect(servers.openai.completions()).to.have.length(1);
    expect(servers.anthropic.completions()).to.have.length(1);
    await gateway.close();
  });

  it('takes a blank answer for that provider failing: not retried, not cached, the next one asked', async () => {
    servers.openai.script({ answer: '' }, { answer: '  ' });
    servers.anthropic.script({ body: { id: 'msg', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [{ type: 'text', text: ' ' }], usage: { input_tokens: 1, output_tokens: 0 } } });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic', 'offline'] });
    expect((await gateway.generate({ prompt: 'hi' })).provider).to.equal('offline');
    expect(servers.openai.completions()).to.have.length(1);
    expect(servers.anthropic.completions()).to.have.length(1);
    // Nothing blank was cached: the same request asks both again, OpenAI still blank, Anthropic answering now.
    expect(await gateway.generate({ prompt: 'hi' })).to.include({ provider: 'anthropic', text: 'fake answer', cached: false });
    expect(servers.openai.completions()).to.have.length(2);
    expect(servers.anthropic.completions()).to.have.length(2);
    expect(await gateway.generate({ prompt: 'hi' })).to.include({ provider: 'openai', text: 'fake answer', cached: false });
    await gateway.close();
  });

  it('names a blank answer in the failures, as a 502', async () => {
    servers.openai.script({ answer: '' });
    const gateway = testGateway({ openai: servers.openai, fallback: ['openai'] });
    const error = await failure(gateway.generate({ prompt: 'hi' }));
    expect((error as AllProvidersFailedError).failures).to.deep.equal([{ provider: 'openai', error: 'malformed (the answer is blank)' }]);
    expect(toProblem(error)).to.include({ status: 502 });
    await gateway.close();
  });

  it('when every provider fails, rejects naming each error; the mapper makes it a 502 problem', async () => {
    servers.openai.fallbackStep = { status: 500, message: 'openai is on fire' };
    servers.anthropic.script({ malformed: true });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'], retry: { retries: 1 } });
    const error = await failure(gateway.generate({ prompt: 'hi' }));
    expect(error).to.be.instanceOf(AllProvidersFailedError);
    const { failures } = error as AllProvidersFailedError;
    expect(failures.map(({ provider }) => provider)).to.deep.equal(['openai', 'anthropic']);
    expect(failures[0]?.error).to.equal('server-error (HTTP 500: openai is on fire) after 2 attempts');
    expect(failures[1]?.error).to.match(/^malformed/);
    const problem = toProblem(error);
    expect(problem).to.include({ status: 502, title: 'Bad Gateway' });
    expect(problem?.detail).to.include('openai: server-error').and.include('anthropic: malformed');
    expect(problem?.extensions).to.deep.equal({ providers: failures });
    await gateway.close();
  });

  it('is a 503 when no provider could be asked or reached at all', async () => {
    const unconfigured = testGateway({ fallback: ['openai', 'anthropic'] });
    const none = await failure(unconfigured.generate({ prompt: 'hi' }));
    expect((none as AllProvidersFailedError).failures).to.deep.equal([
      { provider: 'openai', error: 'not configured (no API key)' },
      { provider: 'anthropic', error: 'not configured (no API key)' },
    ]);
    expect(toProblem(none)).to.include({ status: 503 });
    servers.openai.script({ hang: 'before-headers' });
    const hanging = testGateway({ openai: servers.openai, fallback: ['openai'], timeoutMs: 200 });
    const timedOut = await failure(hanging.generate({ prompt: 'hi' }));
    expect((timedOut as AllProvidersFailedError).failures[0]?.error).to.equal('timeout (no answer within 200 ms)');
    expect(toProblem(timedOut)).to.include({ status: 503 });
    await unconfigured.close();
    await hanging.close();
  });

  it('bounds one generation by the total timeout: the provider asked is cut, the rest are reported as not tried, a 503', async () => {
    servers.openai.script({ hang: 'before-headers' });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic', 'offline'], timeoutMs: 5000, totalTimeoutMs: 300 });
    const started = Date.now();
    const error = await failure(gateway.generate({ prompt: 'hi' }));
    expect(Date.now() - started).to.be.within(300, 1000);
    expect((error as AllProvidersFailedError).failures).to.deep.equal([
      { provider: 'openai', error: 'timeout (the total timeout of 300 ms ran out)' },
      { provider: 'anthropic', error: 'not tried: the total timeout of 300 ms ran out' },
      { provider: 'offline', error: 'not tried: the total timeout of 300 ms ran out' },
    ]);
    expect(toProblem(error)).to.include({ status: 503 });
    expect(servers.anthropic.completions()).to.have.length(0);
    await gateway.close();
  });

  it('bounds retries by the total timeout too, keeping a failure that came before it', async () => {
    servers.openai.script({ status: 400, message: 'no' });
    servers.anthropic.fallbackStep = { status: 429, retryAfter: '0.2' };
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic', 'offline'], retry: { retries: 10 }, totalTimeoutMs: 700 });
    const started = Date.now();
    const error = await failure(gateway.generate({ prompt: 'hi' }));
    expect(Date.now() - started).to.be.within(700, 1300);
    const { failures } = error as AllProvidersFailedError;
    expect(failures[0]?.error).to.match(/^refused \(HTTP 400/);
    expect(failures.slice(1)).to.deep.equal([
      { provider: 'anthropic', error: 'timeout (the total timeout of 700 ms ran out)' },
      { provider: 'offline', error: 'not tried: the total timeout of 700 ms ran out' },
    ]);
    expect(servers.anthropic.completions().length).to.be.within(2, 4);
    expect(toProblem(error)).to.include({ status: 502 });
    await gateway.close();
  });

  it('stops at once when the caller gives up, asking no further provider', async () => {
    servers.openai.script({ hang: 'before-headers' });
    const gateway = testGateway({ openai: servers.openai, anthropic: servers.anthropic, fallback: ['openai', 'anthropic'], timeoutMs: 5000 });
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('client went away')), 100);
    const error = await failure(gateway.generate({ prompt: 'hi' }, caller.signal));
    expect((error as Error).message).to.equal('client went away');
    expect(servers.anthropic.completions()).to.have.length(0);
    await gateway.close();
  });
});
