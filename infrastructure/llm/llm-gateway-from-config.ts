import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { anthropicProvider } from './anthropic-provider.ts';
import { createLlmGateway } from './create-llm-gateway.ts';
import type { LlmGateway } from './llm-gateway.ts';
import { memoryCache } from './memory-cache.ts';
import { offlineProvider } from './offline-provider.ts';
import { openAiProvider } from './openai-provider.ts';
import { redisCache, type RedisCacheOptions } from './redis-cache.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** What configuration leaves to code: tests shorten the waits with these. */
export interface LlmTuning {
  readonly retry?: Partial<Omit<RetryPolicy, 'retries'>>;
  readonly redis?: Pick<RedisCacheOptions, 'commandTimeoutMs' | 'connectTimeoutMs' | 'reconnectMaxDelayMs' | 'probeIntervalMs'>;
  readonly reachabilityTimeoutMs?: number;
}

/** The gateway as configured: every provider (those without a key stay unconfigured), Redis when REDIS_URL is set, else an LRU in the process. */
export const llmGatewayFromConfig = (config: Config, logger: Logger, tuning: LlmTuning = {}): LlmGateway => {
  const { llm, redisUrl, cacheTtlSeconds: ttlSeconds } = config;
  const log = logger.child({ component: 'llm-gateway' });
  return createLlmGateway({
    providers: [openAiProvider(llm.openai, llm.timeoutMs), anthropicProvider(llm.anthropic, llm.timeoutMs), offlineProvider()],
    fallback: llm.fallback,
    cache: redisUrl ? redisCache({ url: redisUrl, ttlSeconds, logger: log, ...tuning.redis }) : memoryCache({ ttlSeconds }),
    logger: log,
    timeoutMs: llm.timeoutMs,
    totalTimeoutMs: llm.totalTimeoutMs,
    retry: { ...tuning.retry, retries: llm.maxRetries },
    ...(tuning.reachabilityTimeoutMs === undefined ? {} : { reachabilityTimeoutMs: tuning.reachabilityTimeoutMs }),
  });
};
