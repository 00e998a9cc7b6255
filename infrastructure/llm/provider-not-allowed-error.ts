import type { ProviderName } from './llm-gateway.ts';

/**
 * A request named a provider the operator left out of LLM_FALLBACK. Refused
 * rather than used: leaving a provider out of the chain is how an operator
 * keeps prompts away from it (cost, data protection), and a key set for
 * another purpose should not undo that.
 */
export class ProviderNotAllowedError extends Error {
  override readonly name = 'ProviderNotAllowedError';

  constructor(
    readonly provider: ProviderName,
    readonly allowed: readonly ProviderName[],
  ) {
    super(`provider "${provider}" is not in LLM_FALLBACK; allowed: ${allowed.join(', ')}`);
  }
}
