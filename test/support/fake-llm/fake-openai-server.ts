import { startScriptedLlmServer, type Dialect, type FakeLlmServer } from './scripted-llm-server.ts';

/** OpenAI's chat completions and models list, as the openai SDK sees them. */
const openAi: Dialect = {
  basePath: '/v1',
  completionPath: '/v1/chat/completions',
  modelsPath: '/v1/models',
  authorised: (headers, apiKey) => headers.authorization === `Bearer ${apiKey}`,
  success: ({ text, inputTokens, outputTokens, model }) => ({
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  }),
  error: (status, message) => ({ error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null, param: null } }),
  models: () => ({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'system' }] }),
};

export const startFakeOpenAi = (apiKey?: string): Promise<FakeLlmServer> => startScriptedLlmServer(openAi, apiKey);
