import path from 'node:path';

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
}

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
