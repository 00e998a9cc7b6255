import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from '../config.ts';

// bigint columns (int8) come back as strings by default; positions and
// revisions stay strings/bigints on purpose, but counts and sums are safe
// numbers in this product, so nothing is changed globally here.

export interface DatabaseOptions {
  readonly url: string;
  /** Connections in the pool. */
  readonly max?: number;
  /** From config (DATABASE_*_MS); the documented defaults otherwise. */
  readonly timeouts?: DatabaseTimeouts;
}

type ConnectionConfig = Pick<
  pg.ClientConfig,
  | 'connectionString' | 'statement_timeout' | 'lock_timeout' | 'idle_in_transaction_session_timeout'
  | 'query_timeout' | 'connectionTimeoutMillis' | 'keepAlive' | 'keepAliveInitialDelayMillis'
>;

/**
 * What every connection Tally opens is told, so that no wait on PostgreSQL is
 * unbounded. Server settings in the URL (`?statement_timeout=…`) still win. A 0 is
 * left out, so the server's (or role's) own setting applies. Nothing ends an
 * idle session that is outside a transaction: the LISTEN connection is one.
 */
export const connectionConfig = (url: string, timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): ConnectionConfig => ({
  connectionString: url,
  statement_timeout: timeouts.statementTimeoutMs || undefined,
  lock_timeout: timeouts.lockTimeoutMs || undefined,
  idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs || undefined,
  query_timeout: timeouts.queryTimeoutMs || undefined,
  connectionTimeoutMillis: timeouts.connectTimeoutMs,
  keepAlive: timeouts.keepAliveMs > 0,
  keepAliveInitialDelayMillis: timeouts.keepAliveMs,
});

/**
 * Schema changes at start-up may rightly take long (an index over the whole
 * log) or wait for another instance's migration: Tally sets them no
 * statement, lock or query limit (the server's own settings, usually none,
 * apply). Connecting and keepalive stay bounded.
 */
export const migrationTimeouts = (timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): DatabaseTimeouts => ({
  ...timeouts,
  statementTimeoutMs: 0,
  lockTimeoutMs: 0,
  queryTimeoutMs: 0,
});

export const createPool = ({ url, max = 10, timeouts }: DatabaseOptions): pg.Pool => {
  // pool.query discards a client whose query failed, so a connection left waiting
  // for an answer after the client-side query timeout is never reused.
  const pool = new pg.Pool({ ...connectionConfig(url, timeouts), max });
  // An idle client losing its server (restart, failover) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', () => undefined);
  return pool;
};

export const createKnex = ({ url, max = 10, timeouts = DEFAULT_DATABASE_TIMEOUTS }: DatabaseOptions): Knex =>
  knexFactory({
    client: 'pg',
    connection: connectionConfig(url, timeouts),
    acquireConnectionTimeout: timeouts.connectTimeoutMs,
    pool: { min: 0, max, validate: answeredEverything },
  });

/**
 * After pg's client-side query timeout the connection still waits for the
 * answer it gave up on, and every later query would queue behind it; knex
 * would hand it out again. Such a connection is dropped when next acquired.
 */
const answeredEverything = (connection: pg.Client): boolean => (connection as pg.Client & { readyForQuery?: boolean }).readyForQuery === true;
