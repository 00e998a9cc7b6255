import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../infrastructure/config.ts';

describe('config: the AI gateway', () => {
  it('has the documented defaults: no keys, the full chain, 20 s per call, 60 s in all, 2 retries', () => {
    expect(loadConfig({}).llm).to.deep.equal({
      openai: { apiKey: undefined, model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1' },
      anthropic: { apiKey: undefined, model: 'claude-haiku-4-5', baseUrl: 'https://api.anthropic.com' },
      timeoutMs: 20_000,
      totalTimeoutMs: 60_000,
      maxRetries: 2,
      fallback: ['openai', 'anthropic', 'offline'],
    });
  });

  it('reads each provider and the policy from its variable', () => {
    const { llm } = loadConfig({
      OPENAI_API_KEY: ' sk-1 ', OPENAI_MODEL: 'gpt-4.1-mini', OPENAI_BASE_URL: 'http://localhost:8080/v1',
      ANTHROPIC_API_KEY: 'ak-1', ANTHROPIC_MODEL: 'claude-sonnet-4-6', ANTHROPIC_BASE_URL: 'https://proxy.example',
      LLM_TIMEOUT_MS: '5000', LLM_TOTAL_TIMEOUT_MS: '12000', LLM_MAX_RETRIES: '0', LLM_FALLBACK: ' anthropic , offline ',
    });
    expect(llm).to.deep.equal({
      openai: { apiKey: 'sk-1', model: 'gpt-4.1-mini', baseUrl: 'http://localhost:8080/v1' },
      anthropic: { apiKey: 'ak-1', model: 'claude-sonnet-4-6', baseUrl: 'https://proxy.example' },
      timeoutMs: 5000,
      totalTimeoutMs: 12_000,
      maxRetries: 0,
      fallback: ['anthropic', 'offline'],
    });
  });

  it('refuses unknown or repeated providers in LLM_FALLBACK, naming the variable', () => {
    expect(() => loadConfig({ LLM_FALLBACK: 'openai,gemini' })).to.throw(ConfigError, /LLM_FALLBACK .*"gemini"/);
    expect(() => loadConfig({ LLM_FALLBACK: 'openai,,offline' })).to.throw(ConfigError, /LLM_FALLBACK/);
    expect(() => loadConfig({ LLM_FALLBACK: 'offline,offline' })).to.throw(ConfigError, /LLM_FALLBACK names a provider twice/);
  });

  it('refuses a bad timeout, total timeout, retry count or base URL', () => {
    expect(() => loadConfig({ LLM_TIMEOUT_MS: '0' })).to.throw(ConfigError, /LLM_TIMEOUT_MS/);
    expect(() => loadConfig({ LLM_TOTAL_TIMEOUT_MS: '0' })).to.throw(ConfigError, /LLM_TOTAL_TIMEOUT_MS/);
    expect(() => loadConfig({ LLM_TOTAL_TIMEOUT_MS: 'soon' })).to.throw(ConfigError, /LLM_TOTAL_TIMEOUT_MS/);
    expect(() => loadConfig({ LLM_MAX_RETRIES: '11' })).to.throw(ConfigError, /LLM_MAX_RETRIES/);
    expect(() => loadConfig({ OPENAI_BASE_URL: 'api.openai.com' })).to.throw(ConfigError, /OPENAI_BASE_URL/);
    expect(() => loadConfig({ ANTHROPIC_BASE_URL: 'ftp://x' })).to.throw(ConfigError, /ANTHROPIC_BASE_URL/);
  });
});
