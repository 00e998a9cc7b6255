import path from 'node:path';
import { PROVIDER_NAMES, type ProviderName } from './llm/llm-gateway.ts';

/** Everything Tally reads from the environment, read in one place (DESIGN §8). */
export interface Config {
  readonly production: boolean;
  /** Unset means: start an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly eventStore: { readonly kind: 'postgres' } | { readonly kind: 'esdb'; readonly connectionString: string };
  readonly redisUrl: string | undefined;
  readonly commandPort: number;
  readonly queryPort: number;
  readonly apiUsername: string;
  readonly apiPassword: string;
  /** True when the credentials are the development defaults: the log says so. */
  readonly defaultCredentials: boolean;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly cacheTtlSeconds: number;
  /** /health answers 503 when a subscriber's oldest unhandled event is older than this. */
  readonly healthMaxLagSeconds: number;
  /** How often a standby of each elected role (projector, rule engine, messaging, campaign copy) tries to take over, and a leader checks its lock. */
  readonly leaderCheckMs: number;
  /** How long the rule engine and the projector wait after an event for more, to take them as one batch. */
  readonly batchLingerMs: number;
  /** How long a query API request with `minPosition` waits for the read models to reach it before a 503. */
  readonly minPositionTimeoutMs: number;
  /** Message delivery: retries and channels (issue 10). */
  readonly messaging: MessagingConfig;
  readonly databaseTimeouts: DatabaseTimeouts;
  readonly llm: LlmConfig;
}

/** The AI gateway's providers and its one retry policy (README, AI gateway). */
export interface LlmConfig {
  readonly openai: LlmProviderConfig;
  readonly anthropic: LlmProviderConfig;
  /** Longest wait for one call to a provider, the answer's body included. */
  readonly timeoutMs: number;
  /** Longest wait for one generation in all: every retry and fallback (LLM_TOTAL_TIMEOUT_MS). */
  readonly totalTimeoutMs: number;
  /** Retries of one provider (429, 5xx, network errors) before the next in the chain is asked. */
  readonly maxRetries: number;
  /** Providers in the order they are asked; those without a key are skipped. */
  readonly fallback: readonly ProviderName[];
}

export interface LlmProviderConfig {
  /** Unset: the provider is not configured, and skipped. */
  readonly apiKey: string | undefined;
  readonly model: string;
  readonly baseUrl: string;
}

/**
 * How long any PostgreSQL connection may wait before Tally reports an outage
 * rather than hang (0: no limit). The server's own limits come first and give
 * the clearer error; the client's query timeout is for a server that can no
 * longer answer at all (a half-open connection), so it must be the longer.
 */
export interface DatabaseTimeouts {
  /** Server side: a statement running longer is cancelled (SQLSTATE 57014). */
  readonly statementTimeoutMs: number;
  /** Server side: a statement waiting longer for one lock is cancelled (55P03). */
  readonly lockTimeoutMs: number;
  /** Server side: a session idle this long inside a transaction is ended, so its locks go. */
  readonly idleInTransactionTimeoutMs: number;
  /** Client side: a query with no answer for this long fails, and its connection is discarded. */
  readonly queryTimeoutMs: number;
  /** Longest wait for a connection, new or from a pool. */
  readonly connectTimeoutMs: number;
  /** TCP keepalive probes start after this much silence, so a dead peer is noticed even on an idle connection (0: off). */
  readonly keepAliveMs: number;
}

/** A margin for the network, so that the server's statement timeout is seen before the client gives up. */
const QUERY_TIMEOUT_MARGIN_MS = 5000;
const MAX_TIMEOUT_MS = 2_147_483_647; // PostgreSQL's settings and Node's timers are 32-bit

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 60_000,
  queryTimeoutMs: 30_000 + QUERY_TIMEOUT_MARGIN_MS,
  connectTimeoutMs: 5000,
  keepAliveMs: 10_000,
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export const loadConfig = (env: Env = process.env): Config => {
  const production = env.NODE_ENV === 'production';
  const eventStoreKind = oneOf(env, 'EVENT_STORE', ['postgres', 'esdb'] as const, 'postgres');
  const esdbConnectionString = nonEmpty(env.EVENTSTORE_CONNECTION_STRING);
  if (eventStoreKind === 'esdb' && !esdbConnectionString) throw new ConfigError('EVENT_STORE=esdb needs EVENTSTORE_CONNECTION_STRING');
  const apiUsername = nonEmpty(env.API_USERNAME);
  const apiPassword = nonEmpty(env.API_PASSWORD);
  if (production && (!apiUsername || !apiPassword)) {
    throw new ConfigError('API_USERNAME and API_PASSWORD are required when NODE_ENV=production');
  }
  return {
    production,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    eventStore: eventStoreKind === 'esdb' ? { kind: 'esdb', connectionString: esdbConnectionString! } : { kind: 'postgres' },
    redisUrl: nonEmpty(env.REDIS_URL),
    commandPort: port(env, 'COMMAND_PORT', 3000),
    queryPort: port(env, 'QUERY_PORT', 3001),
    apiUsername: apiUsername ?? 'admin',
    apiPassword: apiPassword ?? 'admin',
    defaultCredentials: !apiUsername || !apiPassword,
    dataDir: path.resolve(nonEmpty(env.DATA_DIR) ?? '.data'),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    cacheTtlSeconds: integer(env, 'CACHE_TTL', 3600, 0),
    healthMaxLagSeconds: integer(env, 'HEALTH_MAX_LAG_SECONDS', 30, 1),
    leaderCheckMs: integer(env, 'LEADER_CHECK_MS', 1000, 50, 60_000),
    batchLingerMs: integer(env, 'BATCH_LINGER_MS', 5, 0, 1000),
    minPositionTimeoutMs: integer(env, 'MIN_POSITION_TIMEOUT_MS', 5000, 1, 60_000),
    messaging: messagingConfig(env),
    databaseTimeouts: databaseTimeouts(env),
    llm: llmConfig(env),
  };
};

const llmConfig = (env: Env): LlmConfig => ({
  openai: { apiKey: nonEmpty(env.OPENAI_API_KEY), model: nonEmpty(env.OPENAI_MODEL) ?? 'gpt-4o-mini', baseUrl: httpUrl(env, 'OPENAI_BASE_URL', 'https://api.openai.com/v1') },
  anthropic: {
    apiKey: nonEmpty(env.ANTHROPIC_API_KEY),
    model: nonEmpty(env.ANTHROPIC_MODEL) ?? 'claude-haiku-4-5',
    // Without /v1: the Anthropic SDK adds it, where the OpenAI SDK expects it in the base URL.
    baseUrl: httpUrl(env, 'ANTHROPIC_BASE_URL', 'https://api.anthropic.com'),
  },
  timeoutMs: integer(env, 'LLM_TIMEOUT_MS', 20_000, 1, 600_000),
  totalTimeoutMs: integer(env, 'LLM_TOTAL_TIMEOUT_MS', 60_000, 1, 3_600_000),
  maxRetries: integer(env, 'LLM_MAX_RETRIES', 2, 0, 10),
  fallback: fallbackChain(env),
});

const fallbackChain = (env: Env): readonly ProviderName[] => {
  const raw = nonEmpty(env.LLM_FALLBACK);
  if (raw === undefined) return PROVIDER_NAMES;
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(PROVIDER_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(`LLM_FALLBACK lists providers out of ${PROVIDER_NAMES.join(', ')}, separated by commas; got "${name}" in "${raw}"`);
    }
  }
  if (new Set(names).size !== names.length) throw new ConfigError(`LLM_FALLBACK names a provider twice: "${raw}"`);
  return names as ProviderName[];
};

const httpUrl = (env: Env, name: string, fallback: string): string => {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(`${name} must be an http or https URL, got "${raw}"`);
  return raw;
};

const databaseTimeouts = (env: Env): DatabaseTimeouts => {
  const defaults = DEFAULT_DATABASE_TIMEOUTS;
  const milliseconds = (name: string, fallback: number, min = 0): number => integer(env, name, fallback, min, MAX_TIMEOUT_MS);
  const statementTimeoutMs = milliseconds('DATABASE_STATEMENT_TIMEOUT_MS', defaults.statementTimeoutMs);
  // Follows the statement timeout unless set; without one, a statement may rightly run long.
  const queryTimeoutMs = milliseconds('DATABASE_QUERY_TIMEOUT_MS', statementTimeoutMs === 0 ? 0 : statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS);
  if (queryTimeoutMs !== 0 && statementTimeoutMs !== 0 && queryTimeoutMs <= statementTimeoutMs) {
    throw new ConfigError(
      `DATABASE_QUERY_TIMEOUT_MS (${queryTimeoutMs}) must be longer than DATABASE_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), or a live server's clearer error is never seen`,
    );
  }
  return {
    statementTimeoutMs,
    lockTimeoutMs: milliseconds('DATABASE_LOCK_TIMEOUT_MS', defaults.lockTimeoutMs),
    idleInTransactionTimeoutMs: milliseconds('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', defaults.idleInTransactionTimeoutMs),
    queryTimeoutMs,
    // Waiting for ever for a connection is never right.
    connectTimeoutMs: milliseconds('DATABASE_CONNECT_TIMEOUT_MS', defaults.connectTimeoutMs, 1),
    keepAliveMs: milliseconds('DATABASE_KEEPALIVE_MS', defaults.keepAliveMs),
  };
};

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

const integer = (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
};

const flag = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  return raw === 'true';
};

/** Port 0 asks the OS for a free port (tests use it). */
const port = (env: Env, name: string, fallback: number): number => integer(env, name, fallback, 0, 65535);

const oneOf = <T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T => {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
};

export interface MessagingConfig {
  /** Delivery attempts of one message, the first included, before it is abandoned. */
  readonly maxAttempts: number;
  /** The wait after a message's first failed attempt; it doubles after each one. */
  readonly retryBaseMs: number;
  /** HMAC key of webhook signatures for campaigns without their own secret. */
  readonly webhookSecret: string | undefined;
  readonly webhookTimeoutMs: number;
  /** Whether webhooks may be posted to loopback, private and link-local addresses; off in production unless asked. */
  readonly webhookAllowPrivateNetworks: boolean;
  /** Unset: email messages fail (and are retried, then abandoned) until it is set. */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** Bounds connecting to the SMTP server, its greeting, its silences and one whole send: a stalled server fails the attempt. */
  readonly emailTimeoutMs: number;
  /** A composed body larger than this (UTF-8 bytes) abandons its message: no channel should carry it, nor the log keep it. */
  readonly maxBodyBytes: number;
  /** What MessageRequested keeps of the earning and its tracked event for composition, at most (JSON bytes). */
  readonly maxContextBytes: number;
}

const messagingConfig = (env: Env): MessagingConfig => ({
  maxAttempts: integer(env, 'MESSAGE_MAX_ATTEMPTS', 5, 1, 100),
  retryBaseMs: integer(env, 'MESSAGE_RETRY_BASE_MS', 30_000, 1, 86_400_000),
  webhookSecret: nonEmpty(env.WEBHOOK_SECRET),
  webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 1, 600_000),
  webhookAllowPrivateNetworks: flag(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', env.NODE_ENV !== 'production'),
  smtpUrl: nonEmpty(env.SMTP_URL),
  mailFrom: nonEmpty(env.MAIL_FROM) ?? 'Tally <tally@localhost>',
  emailTimeoutMs: integer(env, 'EMAIL_TIMEOUT_MS', 10_000, 1, 600_000),
  maxBodyBytes: integer(env, 'MESSAGE_MAX_BODY_BYTES', 65_536, 1, 1_048_576),
  maxContextBytes: integer(env, 'MESSAGE_MAX_CONTEXT_BYTES', 16_384, 256, 1_048_576),
});
