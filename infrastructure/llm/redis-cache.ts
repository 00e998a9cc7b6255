import { Redis } from 'ioredis';
import { errorText } from '../error-text.ts';
import type { Logger } from '../logger.ts';
import { CACHE_KEY_PREFIX } from './cache-key.ts';
import { CacheUnavailableError } from './cache-unavailable-error.ts';
import type { CacheHealth } from './llm-gateway.ts';
import type { Completion } from './llm-provider.ts';
import type { ResponseCache } from './response-cache.ts';

export interface RedisCacheOptions {
  readonly url: string;
  /** 0: nothing is cached (nor read). */
  readonly ttlSeconds: number;
  readonly logger: Logger;
  /** Longest wait for one Redis command: a generation never waits longer than this for its cache. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Reconnection backs off exponentially up to this (plus jitter). */
  readonly reconnectMaxDelayMs?: number;
  /** Keys asked for per SCAN (and so removed per UNLINK) when clearing. */
  readonly scanCount?: number;
  /** While degraded, how often a PING checks whether Redis answers again. */
  readonly probeIntervalMs?: number;
}

/** A value someone else wrote under our key, or an older shape: a miss, never a crash. */
const parseCompletion = (raw: string | null): Completion | undefined => {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<Record<keyof Completion, unknown>>;
    const { text, model, inputTokens, outputTokens } = value;
    if (typeof text !== 'string' || typeof model !== 'string' || typeof inputTokens !== 'number' || typeof outputTokens !== 'number') return undefined;
    return { text, model, inputTokens, outputTokens };
  } catch {
    return undefined;
  }
};

/**
 * The response cache in Redis, shared by every process. Redis is optional
 * even when configured: a command never waits longer than `commandTimeoutMs`,
 * and once one fails the cache is degraded: reads are misses and writes are
 * dropped without asking Redis at all, so that a Redis that stopped answering
 * costs one short wait, not one per provider tried. `health()` says
 * `degraded` with the error. Caching resumes by itself: on the client's
 * `ready` after a reconnection (it reconnects with backoff), or when a PING
 * every `probeIntervalMs` is answered again (a frozen Redis keeps its
 * connection, so no `ready` comes).
 */
export const redisCache = ({
  url, ttlSeconds, logger, commandTimeoutMs = 250, connectTimeoutMs = 1000, reconnectMaxDelayMs = 2000, scanCount = 500, probeIntervalMs = 1000,
}: RedisCacheOptions): ResponseCache => {
  const client = new Redis(url, {
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    // A command caught by a dropped connection fails rather than waiting through reconnections.
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 16), reconnectMaxDelayMs) + Math.floor(Math.random() * 50),
    connectionName: 'tally-llm-cache',
  });

  // Until the first connection is ready the cache is not working, but nothing went wrong either: no warning for that.
  let problem: string | undefined = 'not connected to Redis yet';
  let warned = false;
  const degrade = (reason: string): void => {
    problem = reason;
    if (!warned) logger.warn({ reason }, 'LLM response cache degraded: Redis is unavailable; generating uncached until it is back');
    warned = true;
  };
  const recover = (): void => {
    if (warned) logger.info('LLM response cache: Redis is back; caching again');
    problem = undefined;
    warned = false;
  };
  client.on('ready', recover);
  // Also keeps ioredis from reporting an unhandled 'error' event while Redis is away.
  client.on('error', (error: unknown) => degrade(errorText(error)));
  client.on('close', () => {
    if (problem === undefined) degrade('connection to Redis closed');
  });

  /** Whether a read or a write may ask Redis now: while degraded only the probe and clear() do. */
  const usable = (): boolean => problem === undefined && client.status === 'ready';

  /** Runs one Redis command, keeping `health()` current. An error reply means Redis is there: only other errors degrade. */
  const command = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      recover();
      return result;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name !== 'ReplyError') degrade(errorText(error));
      throw error;
    }
  };

  // Only while degraded and connected: without a connection a PING fails at once, and `ready` says when it is back.
  let probing = false;
  const probe = setInterval(() => {
    if (problem === undefined || client.status !== 'ready' || probing) return;
    probing = true;
    command(() => client.ping())
      .catch(() => undefined)
      .finally(() => (probing = false));
  }, probeIntervalMs);
  probe.unref();

  return {
    kind: 'redis',

    async get(key) {
      if (ttlSeconds === 0 || !usable()) return undefined;
      return command(() => client.get(key)).then(parseCompletion, () => undefined);
    },

    async set(key, completion) {
      if (ttlSeconds === 0 || !usable()) return;
      await command(() => client.set(key, JSON.stringify(completion), 'EX', ttlSeconds)).catch(() => undefined);
    },

    async clear() {
      // SCAN and UNLINK in batches, by prefix: never KEYS (which blocks Redis) nor FLUSHDB (which takes what is not ours).
      try {
        let cursor = '0';
        let cleared = 0;
        do {
          const [next, keys] = await command(() => client.scan(cursor, 'MATCH', `${CACHE_KEY_PREFIX}*`, 'COUNT', scanCount));
          if (keys.length > 0) cleared += await command(() => client.unlink(...keys));
          cursor = next;
        } while (cursor !== '0');
        return cleared;
      } catch (error) {
        throw new CacheUnavailableError(`the response cache's Redis is unavailable: ${errorText(error)}`, { cause: error });
      }
    },

    health(): CacheHealth {
      if (problem === undefined && client.status === 'ready') return { status: 'ok', kind: 'redis' };
      return { status: 'degraded', kind: 'redis', error: problem ?? `Redis connection is ${client.status}` };
    },

    async close() {
      clearInterval(probe);
      client.removeAllListeners('close');
      // QUIT lets pending replies arrive; without a connection there is nothing to wait for.
      await client.quit().catch(() => client.disconnect());
    },
  };
};
