import { errorText } from '../error-text.ts';
import type { ProviderName } from './llm-gateway.ts';
import { retryAfterMs } from './retry-after.ts';

/**
 * - `rate-limited`: 429; `server-error`: 5xx; `network`: no HTTP answer (refused, reset, DNS): worth retrying.
 * - `refused`: any other 4xx (a bad key, a model it does not have, a request it will not take): the same again fails again.
 * - `timeout`: no whole answer within the per-call timeout. Not retried: a provider that hangs is
 *   likely to hang again, and the caller's wait is better spent on the next provider in the chain.
 * - `malformed`: an answer that is not what the API promises (not JSON, no text, a blank text). Not retried either.
 */
export type FailureKind = 'rate-limited' | 'server-error' | 'network' | 'refused' | 'timeout' | 'malformed';

const RETRYABLE: ReadonlySet<FailureKind> = new Set(['rate-limited', 'server-error', 'network']);
/** Kinds where the provider gave an HTTP answer, if a wrong one: see AllProvidersFailedError. */
const ANSWERED: ReadonlySet<FailureKind> = new Set(['rate-limited', 'server-error', 'refused', 'malformed']);

/** One failed attempt at one provider, classified for the gateway's single retry policy. */
export class ProviderCallError extends Error {
  override readonly name = 'ProviderCallError';

  constructor(
    readonly provider: ProviderName,
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /** What the provider's Retry-After asked for (429 and 503 carry it). */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  get answered(): boolean {
    return ANSWERED.has(this.kind);
  }

  /** What happened, for people: `server-error (HTTP 500: overloaded)`, `timeout (no answer within 20000 ms)`. */
  get summary(): string {
    return `${this.kind} (${this.status === undefined ? '' : `HTTP ${this.status}: `}${this.message})`;
  }
}

/** How much later than the gateway's timeout the SDKs' own one fires. */
export const SDK_TIMEOUT_MARGIN_MS = 1000;

/** The caller gave up (a client that went away): not the provider's failure, and nothing to fall back for. */
export const isCallerAbort = (signal: AbortSignal): boolean => signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError';

/**
 * Classifies what an SDK call threw. The OpenAI and Anthropic SDKs are built
 * alike (Stainless): an HTTP error carries `status` and `headers`, and a call
 * with no answer (connection errors, their own timeout, an abort) has no
 * status. `signal` is the attempt's: aborted by the per-call timeout
 * (AbortSignal.timeout's reason is a TimeoutError) or by the caller.
 */
export const classifySdkError = (provider: ProviderName, error: unknown, signal: AbortSignal, timeoutMs: number): ProviderCallError => {
  if (error instanceof ProviderCallError) return error;
  const message = errorText(error);
  const options = { cause: error };
  if (signal.aborted && !isCallerAbort(signal)) return new ProviderCallError(provider, 'timeout', `no answer within ${timeoutMs} ms`, undefined, undefined, options);
  const { status, headers } = (error ?? {}) as { status?: unknown; headers?: unknown };
  if (typeof status === 'number') {
    const wait = retryAfterMs(headers instanceof Headers ? headers : undefined);
    const kind: FailureKind = status === 429 ? 'rate-limited' : status >= 500 ? 'server-error' : 'refused';
    // The SDKs start their messages with the status, which the error carries on its own.
    return new ProviderCallError(provider, kind, message.replace(/^\d{3} /, ''), status, wait, options);
  }
  // A 2xx body that is not JSON: the SDKs let JSON.parse's error through.
  if (error instanceof SyntaxError) return new ProviderCallError(provider, 'malformed', `the answer is not valid JSON: ${message}`, undefined, undefined, options);
  return new ProviderCallError(provider, 'network', message, undefined, undefined, options);
};
