import type { Logger } from '../../infrastructure/logger.ts';
import { anthropicProvider } from '../../infrastructure/llm/anthropic-provider.ts';
import { createLlmGateway } from '../../infrastructure/llm/create-llm-gateway.ts';
import type { LlmGateway, ProviderName } from '../../infrastructure/llm/llm-gateway.ts';
import { memoryCache } from '../../infrastructure/llm/memory-cache.ts';
import { offlineProvider } from '../../infrastructure/llm/offline-provider.ts';
import { openAiProvider } from '../../infrastructure/llm/openai-provider.ts';
import type { ResponseCache } from '../../infrastructure/llm/response-cache.ts';
import type { RetryPolicy } from '../../infrastructure/llm/retry-policy.ts';
import type { FakeLlmServer } from './fake-llm/scripted-llm-server.ts';
import { silentLogger } from './silent-logger.ts';

export interface TestGatewayOptions {
  /** A provider without a fake server has no key: not configured. */
  readonly openai?: FakeLlmServer;
  readonly anthropic?: FakeLlmServer;
  readonly fallback?: readonly ProviderName[];
  readonly timeoutMs?: number;
  readonly totalTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly cache?: ResponseCache;
  readonly logger?: Logger;
}

/** The gateway with the real SDK clients pointed at fake servers, and waits short enough for a unit test. */
export const testGateway = ({ openai, anthropic, fallback = ['openai', 'anthropic', 'offline'], timeoutMs = 1000, totalTimeoutMs = 60_000, retry = {}, cache, logger = silentLogger }: TestGatewayOptions): LlmGateway =>
  createLlmGateway({
    providers: [
      openAiProvider({ apiKey: openai?.apiKey, model: 'gpt-4o-mini', baseUrl: openai?.baseUrl ?? 'http://127.0.0.1:9/v1' }, timeoutMs),
      anthropicProvider({ apiKey: anthropic?.apiKey, model: 'claude-haiku-4-5', baseUrl: anthropic?.baseUrl ?? 'http://127.0.0.1:9' }, timeoutMs),
      offlineProvider(),
    ],
    fallback,
    cache: cache ?? memoryCache({ ttlSeconds: 3600 }),
    logger,
    timeoutMs,
    totalTimeoutMs,
    retry: { retries: 2, minBackoffMs: 5, maxBackoffMs: 20, maxRetryAfterMs: 2000, ...retry },
    reachabilityTimeoutMs: 500,
  });
