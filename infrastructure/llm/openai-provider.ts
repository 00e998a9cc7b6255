import OpenAI from 'openai';
import type { LlmProviderConfig } from '../config.ts';
import type { Completion, LlmProvider, ProviderCall } from './llm-provider.ts';
import { classifySdkError, ProviderCallError, SDK_TIMEOUT_MARGIN_MS } from './provider-call-error.ts';

/** OpenAI's chat completions, through the official SDK (any compatible server at OPENAI_BASE_URL). */
export const openAiProvider = (config: LlmProviderConfig, timeoutMs: number): LlmProvider => {
  const client = config.apiKey
    ? new OpenAI({
        apiKey: config.apiKey,
        baseURL: config.baseUrl,
        // Everything comes from Tally's config: the SDK would otherwise read OPENAI_ORG_ID and OPENAI_PROJECT_ID itself.
        organization: null,
        project: null,
        // The gateway's retry policy is the only one, and its timeout (the attempt's signal) also covers the body,
        // which the SDK's does not: the SDK's is only a backstop, a little later, so that a timeout is always ours.
        maxRetries: 0,
        timeout: timeoutMs + SDK_TIMEOUT_MARGIN_MS,
        logLevel: 'off',
      })
    : undefined;
  const failure = (error: unknown, signal: AbortSignal): ProviderCallError => classifySdkError('openai', error, signal, timeoutMs);

  return {
    name: 'openai',
    configured: client !== undefined,
    defaultModel: config.model,
    baseUrl: config.baseUrl,

    async complete({ prompt, system, model, maxTokens, temperature }: ProviderCall, signal: AbortSignal): Promise<Completion> {
      if (!client) throw new ProviderCallError('openai', 'refused', 'OPENAI_API_KEY is not set');
      try {
        const answer = await client.chat.completions.create(
          {
            model,
            messages: [...(system === undefined ? [] : [{ role: 'system' as const, content: system }]), { role: 'user' as const, content: prompt }],
            // max_tokens is deprecated, and refused by the reasoning models.
            max_completion_tokens: maxTokens,
            ...(temperature === undefined ? {} : { temperature }),
          },
          { signal },
        );
        const text = answer.choices?.[0]?.message?.content;
        if (typeof text !== 'string') throw new ProviderCallError('openai', 'malformed', 'the answer has no text in choices[0].message.content');
        // A compatible server may leave usage out: counted as 0 rather than refusing a good text.
        const inputTokens = answer.usage?.prompt_tokens ?? 0;
        const outputTokens = answer.usage?.completion_tokens ?? 0;
        return { text, model: typeof answer.model === 'string' ? answer.model : model, inputTokens, outputTokens };
      } catch (error) {
        throw failure(error, signal);
      }
    },

    async unreachable(signal: AbortSignal): Promise<string | undefined> {
      if (!client) return 'OPENAI_API_KEY is not set';
      try {
        await client.models.list({ signal });
        return undefined;
      } catch (error) {
        return failure(error, signal).summary;
      }
    },
  };
};
