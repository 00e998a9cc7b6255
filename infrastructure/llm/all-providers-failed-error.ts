import type { ProviderName } from './llm-gateway.ts';

export interface ProviderFailure {
  readonly provider: ProviderName;
  readonly error: string;
}

/**
 * Every provider in the chain failed (or none was configured). `answered`
 * tells the two cases the HTTP mapper answers differently: some provider gave
 * an HTTP answer, if a wrong one (a 5xx, a refusal, garbage: 502 Bad Gateway),
 * or none could be asked or reached at all (no key, connection refused, no
 * answer in time: 503, worth retrying later).
 */
export class AllProvidersFailedError extends Error {
  override readonly name = 'AllProvidersFailedError';

  constructor(
    readonly failures: readonly ProviderFailure[],
    readonly answered: boolean,
  ) {
    super(failures.length === 0 ? 'no provider is configured' : `every provider failed: ${failures.map(({ provider, error }) => `${provider}: ${error}`).join('; ')}`);
  }
}
