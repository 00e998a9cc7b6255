import pRetry from 'p-retry';
import { sleep } from '../sleep.ts';
import { ProviderCallError } from './provider-call-error.ts';

/** The gateway's one retry policy, for every provider (the SDKs' own retries are off). */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** The first backoff; each next one doubles, up to maxBackoffMs, each times a random factor from 1 to 2 (jitter). */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /**
   * The longest Retry-After honoured. A provider that asks for a longer wait
   * is not retried at all: waiting less than it asked would only be refused
   * again, and the next provider in the chain can answer now.
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 2, minBackoffMs: 500, maxBackoffMs: 5000, maxRetryAfterMs: 10_000 };

/**
 * Runs `attempt` until it succeeds, retrying only what is worth it: a 429, a
 * 5xx or a network error (ProviderCallError.retryable), never another 4xx, a
 * timeout or a malformed answer. A Retry-After (capped, see above) is waited
 * out first, then the usual backoff on top: the jitter keeps the callers that
 * were all told the same moment from coming back together. Rejects with the
 * last attempt's error, or `signal`'s reason once it aborts.
 */
export const withRetries = <T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  onRetry: (error: ProviderCallError, attemptNumber: number) => void,
): Promise<T> =>
  pRetry(attempt, {
    retries: policy.retries,
    factor: 2,
    minTimeout: policy.minBackoffMs,
    maxTimeout: policy.maxBackoffMs,
    randomize: true,
    signal,
    shouldRetry: async ({ error, attemptNumber }) => {
      if (!(error instanceof ProviderCallError) || !error.retryable) return false;
      if (error.retryAfterMs !== undefined) {
        if (error.retryAfterMs > policy.maxRetryAfterMs) return false;
        await sleep(error.retryAfterMs, signal);
      }
      onRetry(error, attemptNumber);
      return true;
    },
  });
