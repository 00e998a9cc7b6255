import type { ProviderName } from './llm-gateway.ts';

/** One call to one model, with every choice made: the gateway fills in the defaults. */
export interface ProviderCall {
  readonly prompt: string;
  readonly system?: string;
  readonly model: string;
  readonly maxTokens: number;
  readonly temperature?: number;
}

export interface Completion {
  readonly text: string;
  /** The model that answered, as the provider names it (it may add a version to the one asked for). */
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * What the gateway needs of a language model provider. A provider makes one
 * attempt per call: timeouts, retries, fallback and caching are the
 * gateway's, so that there is one policy for all of them. A failed attempt
 * rejects with a ProviderCallError saying whether it is worth retrying.
 */
export interface LlmProvider {
  readonly name: ProviderName;
  /** False when it lacks what it needs (an API key): the gateway then skips it. */
  readonly configured: boolean;
  readonly defaultModel: string;
  /** Where it is asked (undefined: nowhere, it runs in the process): part of the cache key. */
  readonly baseUrl: string | undefined;
  /** `signal` aborts the attempt: the gateway's per-call timeout or the caller giving up. */
  complete(call: ProviderCall, signal: AbortSignal): Promise<Completion>;
  /** A cheap request that shows the provider answers and takes the key (the models list); undefined when it does, else why not. */
  unreachable(signal: AbortSignal): Promise<string | undefined>;
}
