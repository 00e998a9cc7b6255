import { LRUCache } from 'lru-cache';
import type { CacheHealth } from './llm-gateway.ts';
import type { Completion } from './llm-provider.ts';
import type { ResponseCache } from './response-cache.ts';

export interface MemoryCacheOptions {
  /** 0: nothing is cached. */
  readonly ttlSeconds: number;
  /** The least recently used answers go first beyond this many. */
  readonly maxEntries?: number;
}

/** The response cache of a process without Redis: an LRU with a TTL, lost on restart, never shared. */
export const memoryCache = ({ ttlSeconds, maxEntries = 1000 }: MemoryCacheOptions): ResponseCache => {
  const entries = new LRUCache<string, Completion>({ max: maxEntries, ...(ttlSeconds > 0 ? { ttl: ttlSeconds * 1000 } : {}) });
  const health: CacheHealth = { status: 'ok', kind: 'memory' };
  return {
    kind: 'memory',
    get: async (key) => (ttlSeconds === 0 ? undefined : entries.get(key)),
    set: async (key, completion) => {
      if (ttlSeconds > 0) entries.set(key, completion);
    },
    clear: async () => {
      // Only the gateway's answers live here: every entry is one of Tally's keys. Expired ones are not counted.
      entries.purgeStale();
      const count = entries.size;
      entries.clear();
      return count;
    },
    health: () => health,
    close: async () => entries.clear(),
  };
};
