import { errorText } from '../error-text.ts';
import type { Logger } from '../logger.ts';
import { AllProvidersFailedError, type ProviderFailure } from './all-providers-failed-error.ts';
import { cacheKey } from './cache-key.ts';
import { DEFAULT_MAX_TOKENS, PROVIDER_NAMES, type GenerateRequest, type Generated, type LlmGateway, type ProviderName, type ProviderStatus } from './llm-gateway.ts';
import type { Completion, LlmProvider, ProviderCall } from './llm-provider.ts';
import { classifySdkError, ProviderCallError } from './provider-call-error.ts';
import { ProviderNotAllowedError } from './provider-not-allowed-error.ts';
import type { ResponseCache } from './response-cache.ts';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry-policy.ts';

export interface GatewayOptions {
  /** One per provider name; those missing from `fallback` are only listed by providers(). */
  readonly providers: readonly LlmProvider[];
  readonly fallback: readonly ProviderName[];
  readonly cache: ResponseCache;
  readonly logger: Logger;
  /** Longest wait for one attempt at one provider, the answer's body included. */
  readonly timeoutMs: number;
  /** Longest wait for one generate(), across every retry and fallback; the providers not reached by then are not tried. */
  readonly totalTimeoutMs: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Longest wait for a provider's reachability check (GET /ai/providers); the call timeout when shorter. */
  readonly reachabilityTimeoutMs?: number;
}

/** Rejects with `signal`'s reason when it aborts first, whatever `work` does: no attempt outlives its timeout. */
const abortable = <T>(work: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });

const describe = (error: unknown, attempts: number): string => {
  if (!(error instanceof ProviderCallError)) return errorText(error);
  return `${error.summary}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
};

/**
 * The gateway (llm-gateway.ts): asks the providers of the chain in turn
 * (skipping those not configured), each with the one retry policy and a
 * per-attempt timeout, and caches what the first to answer said, under that
 * provider's own key.
 *
 * The cache is read per provider, just before that provider would be asked:
 * a cached answer of a provider later in the chain is used only when every
 * provider before it has failed on this request. So a fresh answer of the
 * preferred provider always wins over a cached answer of a fallback (an
 * offline draft cached during an outage is not served once the provider is
 * back), and a fallback that was cached saves its call while the preferred
 * provider is down.
 */
export const createLlmGateway = ({ providers, fallback, cache, logger, timeoutMs, totalTimeoutMs, retry = {}, reachabilityTimeoutMs = 2000 }: GatewayOptions): LlmGateway => {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...retry };
  const reachTimeoutMs = Math.min(reachabilityTimeoutMs, timeoutMs);

  /** One attempt at one provider, bounded by the per-call timeout and the caller's signal. */
  const attempt = async (provider: LlmProvider, call: ProviderCall, callerSignal: AbortSignal | undefined): Promise<Completion> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const completion = await abortable(provider.complete(call, signal), signal);
      // A blank text is no answer: caching it would serve it for CACHE_TTL, and a caller that needs text
      // (campaign copy) would refuse it for ever. Not retried either: the same model tends to say the same.
      if (completion.text.trim() === '') throw new ProviderCallError(provider.name, 'malformed', 'the answer is blank');
      return completion;
    } catch (error) {
      throw classifySdkError(provider.name, error, signal, timeoutMs);
    }
  };

  /** The requested provider (one of the chain: see generate) first, then the rest of the chain in its order. */
  const chainFor = (requested: ProviderName | undefined): ProviderName[] =>
    requested === undefined ? [...fallback] : [requested, ...fallback.filter((name) => name !== requested)];

  const generate = async (request: GenerateRequest, signal?: AbortSignal): Promise<Generated> => {
    if (request.provider !== undefined && !fallback.includes(request.provider)) throw new ProviderNotAllowedError(request.provider, fallback);
    const useCache = request.useCache !== false;
    const failures: ProviderFailure[] = [];
    let answered = false;
    // The deadline aborts whatever is under way (an attempt, a backoff) like a caller giving up, but it is no
    // caller's doing: what it cut is reported as that provider's timeout, and the rest of the chain as not tried.
    const deadline = AbortSignal.timeout(totalTimeoutMs);
    const bounded = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const ranOut = `the total timeout of ${totalTimeoutMs} ms ran out`;
    // `model` is for the provider asked first: the one named, or else the first configured one. Fallbacks use their own.
    let modelTaken = false;
    for (const name of chainFor(request.provider)) {
      if (deadline.aborted) {
        failures.push({ provider: name, error: `not tried: ${ranOut}` });
        continue;
      }
      const provider = byName.get(name);
      if (!provider?.configured) {
        failures.push({ provider: name, error: provider ? 'not configured (no API key)' : 'not available in this process' });
        if (name === request.provider) modelTaken = true;
        continue;
      }
      const model = !modelTaken && request.model !== undefined ? request.model : provider.defaultModel;
      modelTaken = true;
      const call: ProviderCall = {
        prompt: request.prompt,
        model,
        maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
        ...(request.system === undefined ? {} : { system: request.system }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      };
      const key = cacheKey(name, provider.baseUrl, call);
      const hit = useCache ? await cache.get(key) : undefined;
      // A blank answer cached before blanks were refused (or written by someone else) is a miss too.
      if (hit && hit.text.trim() !== '') return { ...hit, provider: name, tokenCount: hit.inputTokens + hit.outputTokens, cached: true };
      let attempts = 0;
      try {
        const completion = await withRetries(
          () => {
            attempts += 1;
            return attempt(provider, call, bounded);
          },
          policy,
          bounded,
          (error, attemptNumber) => logger.info({ provider: name, attemptNumber, err: error }, 'LLM call failed; retrying'),
        );
        if (useCache) await cache.set(key, completion);
        return { ...completion, provider: name, tokenCount: completion.inputTokens + completion.outputTokens, cached: false };
      } catch (error) {
        // The caller gave up: that is no provider's failure, and nobody is left to answer.
        if (signal?.aborted) throw signal.reason;
        answered ||= !deadline.aborted && error instanceof ProviderCallError && error.answered;
        const described = deadline.aborted ? `timeout (${ranOut})` : describe(error, attempts);
        failures.push({ provider: name, error: described });
        logger.warn({ provider: name, model, error: described }, 'LLM provider failed; trying the next in the chain');
      }
    }
    throw new AllProvidersFailedError(failures, answered);
  };

  const status = async (name: ProviderName): Promise<ProviderStatus> => {
    const provider = byName.get(name);
    if (!provider) return { provider: name, configured: false, model: '', reachable: false, error: 'not available in this process' };
    const { configured, defaultModel: model } = provider;
    const signal = AbortSignal.timeout(reachTimeoutMs);
    const error = await abortable(provider.unreachable(signal), signal).catch(errorText);
    const said = signal.aborted ? `no answer within ${reachTimeoutMs} ms` : error;
    return { provider: name, configured, model, reachable: said === undefined, ...(said === undefined ? {} : { error: said }) };
  };

  return {
    generate,
    // The chain's providers in its order, then the others.
    providers: () => Promise.all([...fallback, ...PROVIDER_NAMES.filter((name) => !fallback.includes(name))].map(status)),
    cacheHealth: () => cache.health(),
    clearCache: () => cache.clear(),
    close: () => cache.close(),
  };
};
