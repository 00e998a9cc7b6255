import type { CacheHealth } from './llm-gateway.ts';
import type { Completion } from './llm-provider.ts';

/**
 * Where the gateway keeps answers, by cache key (cache-key.ts). Reads and
 * writes never fail a generation: a cache that cannot answer is a miss, and
 * a write that cannot be made is dropped, with `health()` saying so.
 */
export interface ResponseCache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<Completion | undefined>;
  set(key: string, completion: Completion): Promise<void>;
  /** Removes Tally's entries only; rejects with CacheUnavailableError when the store cannot be reached. */
  clear(): Promise<number>;
  health(): CacheHealth;
  close(): Promise<void>;
}
