import { createHash } from 'node:crypto';
import type { ProviderName } from './llm-gateway.ts';
import type { ProviderCall } from './llm-provider.ts';

/**
 * Every key of Tally's response cache starts so: clearing the cache removes
 * these keys and no others. Every Tally on one Redis shares it, so clearing
 * clears theirs too; their answers are shared only for the same provider at
 * the same base URL (see cacheKey).
 */
export const CACHE_KEY_PREFIX = 'tally:llm:';

/**
 * The cache key of one call to one provider: SHA-256 over everything that
 * shapes the answer. The base URL too: the same model name at another server
 * (a proxy, a compatible server, a test double) is not the same model, and
 * deployments on one Redis pointed at different servers must not serve each
 * other's answers. A JSON array, not a concatenation, so that no two
 * different calls can run together into the same text ("ab" + "c", "a" + "bc").
 */
export const cacheKey = (provider: ProviderName, baseUrl: string | undefined, { model, prompt, system, maxTokens, temperature }: ProviderCall): string =>
  CACHE_KEY_PREFIX + createHash('sha256').update(JSON.stringify([provider, baseUrl ?? null, model, prompt, system ?? null, maxTokens, temperature ?? null])).digest('hex');
