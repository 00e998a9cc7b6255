/**
 * The one way Tally asks a language model for text (issue 10): providers
 * behind a fallback chain, with a response cache. Callers (the /ai routes,
 * the campaign copy reactor, message composition) see only this.
 */
export type ProviderName = 'openai' | 'anthropic' | 'offline';

/** Every provider Tally knows, in the order of the default fallback chain. */
export const PROVIDER_NAMES = ['openai', 'anthropic', 'offline'] as const satisfies readonly ProviderName[];

/** `maxTokens` when a request does not say: Anthropic requires a limit, and one default keeps the cache keys of all providers alike. */
export const DEFAULT_MAX_TOKENS = 1024;

export interface GenerateRequest {
  readonly prompt: string;
  readonly system?: string;
  /** Tried first; the rest of the fallback chain follows. None: the chain as configured. */
  readonly provider?: ProviderName;
  readonly model?: string;
  /** Default DEFAULT_MAX_TOKENS. */
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Default true. */
  readonly useCache?: boolean;
}

export interface Generated {
  readonly text: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly tokenCount: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cached: boolean;
}

export interface ProviderStatus {
  readonly provider: ProviderName;
  readonly configured: boolean;
  readonly model: string;
  readonly reachable: boolean;
  /** Why it is not reachable (not configured, refused the key, no answer in time). */
  readonly error?: string;
}

export type CacheHealth = { readonly status: 'ok'; readonly kind: 'redis' | 'memory' } | { readonly status: 'degraded'; readonly kind: 'redis'; readonly error: string };

export interface LlmGateway {
  /** Rejects with AllProvidersFailedError (naming each provider's error) when every provider in the chain failed. */
  generate(request: GenerateRequest, signal?: AbortSignal): Promise<Generated>;
  providers(): Promise<readonly ProviderStatus[]>;
  cacheHealth(): CacheHealth;
  /** Removes Tally's cached responses only (by key prefix); returns how many. */
  clearCache(): Promise<number>;
  close(): Promise<void>;
}
