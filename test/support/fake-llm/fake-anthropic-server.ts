import { startScriptedLlmServer, type Dialect, type FakeLlmServer } from './scripted-llm-server.ts';

/** Anthropic's messages API and models list, as @anthropic-ai/sdk sees them. */
const anthropic: Dialect = {
  basePath: '',
  completionPath: '/v1/messages',
  modelsPath: '/v1/models',
  // Older SDKs send the key as x-api-key, this one (1.x) as a bearer token; either way with the API version.
  authorised: (headers, apiKey) => (headers['x-api-key'] === apiKey || headers.authorization === `Bearer ${apiKey}`) && typeof headers['anthropic-version'] === 'string',
  success: ({ text, inputTokens, outputTokens, model }) => ({
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text, citations: null }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens },
  }),
  error: (status, message) => ({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message } }),
  models: () => ({
    data: [{ id: 'claude-haiku-4-5', type: 'model', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' }],
    has_more: false,
    first_id: 'claude-haiku-4-5',
    last_id: 'claude-haiku-4-5',
  }),
};

export const startFakeAnthropic = (apiKey?: string): Promise<FakeLlmServer> => startScriptedLlmServer(anthropic, apiKey);
