import Anthropic from '@anthropic-ai/sdk';
import type { LlmProviderConfig } from '../config.ts';
import type { Completion, LlmProvider, ProviderCall } from './llm-provider.ts';
import { classifySdkError, ProviderCallError, SDK_TIMEOUT_MARGIN_MS } from './provider-call-error.ts';

/** Anthropic's messages API, through the official SDK. */
export const anthropicProvider = (config: LlmProviderConfig, timeoutMs: number): LlmProvider => {
  const client = config.apiKey
    ? new Anthropic({
        // A key given here is the client's only credential: the SDK then reads no other from the environment or config files.
        apiKey: config.apiKey,
        baseURL: config.baseUrl,
        // The gateway's retry policy is the only one, and its timeout (the attempt's signal) also covers the body,
        // which the SDK's does not: the SDK's is only a backstop, a little later, so that a timeout is always ours.
        maxRetries: 0,
        timeout: timeoutMs + SDK_TIMEOUT_MARGIN_MS,
        logLevel: 'off',
      })
    : undefined;
  const failure = (error: unknown, signal: AbortSignal): ProviderCallError => classifySdkError('anthropic', error, signal, timeoutMs);

  return {
    name: 'anthropic',
    configured: client !== undefined,
    defaultModel: config.model,
    baseUrl: config.baseUrl,

    async complete({ prompt, system, model, maxTokens, temperature }: ProviderCall, signal: AbortSignal): Promise<Completion> {
      if (!client) throw new ProviderCallError('anthropic', 'refused', 'ANTHROPIC_API_KEY is not set');
      try {
        const answer = await client.messages.create(
          {
            model,
            max_tokens: maxTokens,
            messages: [{ role: 'user', content: prompt }],
            ...(system === undefined ? {} : { system }),
            ...(temperature === undefined ? {} : { temperature }),
          },
          { signal },
        );
        // The answer is a list of blocks; a plain request gets text blocks only.
        const blocks = Array.isArray(answer.content) ? answer.content : [];
        const texts = blocks.flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : []));
        if (texts.length === 0) throw new ProviderCallError('anthropic', 'malformed', 'the answer has no text block in content');
        return {
          text: texts.join(''),
          model: typeof answer.model === 'string' ? answer.model : model,
          inputTokens: answer.usage?.input_tokens ?? 0,
          outputTokens: answer.usage?.output_tokens ?? 0,
        };
      } catch (error) {
        throw failure(error, signal);
      }
    },

    async unreachable(signal: AbortSignal): Promise<string | undefined> {
      if (!client) return 'ANTHROPIC_API_KEY is not set';
      try {
        await client.models.list({ limit: 1 }, { signal });
        return undefined;
      } catch (error) {
        return failure(error, signal).summary;
      }
    },
  };
};
