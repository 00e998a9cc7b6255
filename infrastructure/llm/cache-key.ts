import { createHash } from 'node:crypto';
import type { ProviderName } from './llm-gateway.ts';
import type { ProviderCall } from './llm-provider.ts';

/** Every key of Tally's response cache starts so: clearing the cache removes these keys and no others. */
export const CACHE_KEY_PREFIX = 'tally:llm:';

/**
 * The cache key of one call to one provider: SHA-256 over everything that
 * shapes the answer. A JSON array, not a concatenation, so that no two
 * different calls can run together into the same text ("ab" + "c", "a" + "bc").
 */
export const cacheKey = (provider: ProviderName, { model, prompt, system, maxTokens, temperature }: ProviderCall): string =>
  CACHE_KEY_PREFIX + createHash('sha256').update(JSON.stringify([provider, model, prompt, system ?? null, maxTokens, temperature ?? null])).digest('hex');
