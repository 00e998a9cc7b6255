import { createHash } from 'node:crypto';
import type { Completion, LlmProvider, ProviderCall } from './llm-provider.ts';

export const OFFLINE_MODEL = 'tally-offline-template-1';

/**
 * Frames the request's subject is put in. Which one is picked by a hash of the
 * request, so that different prompts read differently and the same prompt
 * always reads the same: nothing here depends on the clock or on chance.
 */
const FRAMES: readonly ((subject: string) => string)[] = [
  (subject) => `Offline draft: ${subject}`,
  (subject) => `Here is what you asked for, composed offline: ${subject}`,
  (subject) => `A note, written without a language model: ${subject}`,
];

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

/**
 * No language model at all: a text composed from the prompt by fixed
 * templates, for when no provider has a key (the default) or every one
 * failed. Same request, same text. Token counts are word counts, the nearest
 * thing without a tokenizer.
 */
export const offlineProvider = (): LlmProvider => ({
  name: 'offline',
  configured: true,
  defaultModel: OFFLINE_MODEL,
  baseUrl: undefined,

  async complete({ prompt, system, maxTokens }: ProviderCall, signal: AbortSignal): Promise<Completion> {
    signal.throwIfAborted();
    const digest = createHash('sha256').update(JSON.stringify([system ?? null, prompt])).digest();
    const frame = FRAMES[digest.readUInt32BE(0) % FRAMES.length]!;
    const text = words(frame(words(prompt).join(' '))).slice(0, maxTokens).join(' ');
    return { text, model: OFFLINE_MODEL, inputTokens: words(`${system ?? ''} ${prompt}`).length, outputTokens: words(text).length };
  },

  async unreachable(): Promise<string | undefined> {
    return undefined;
  },
});
