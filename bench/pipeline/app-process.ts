import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../infrastructure/free-port.ts';

const root = path.resolve(import.meta.dirname, '../..');


export interface AppProcess {
  readonly commandUrl: string;
  readonly queryUrl: string;
  /** Every process of the app (two when the workers run apart). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const spawnTally = (databaseUrl: string, args: readonly string[], nodeArgs: readonly string[], env: Record<string, string>): { child: ChildProcess; exited: Promise<void> } => {
  const argv = [...nodeArgs, '--import', 'tsx', 'bin/tally.ts', 'start', ...args];
  // BENCH_APP_NICE: the app's scheduling priority (a negative value needs root), to see what CPU contention does to latency.
  const nice = process.env.BENCH_APP_NICE;
  const child: ChildProcess = spawn(nice ? 'nice' : process.execPath, nice ? ['-n', nice, process.execPath, ...argv] : argv, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', API_USERNAME: 'admin', API_PASSWORD: 'admin', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return { child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
};

/**
 * The all-in-one app (`npm start`'s entry point) as a process of its own, on
 * the given database; with `workersApart`, two processes: the APIs in one, the
 * projector and the rule engine in the other.
 */
export const startAppProcess = async (
  databaseUrl: string,
  { env = {}, nodeArgs = [], workersApart = false }: { env?: Record<string, string>; nodeArgs?: readonly string[]; workersApart?: boolean } = {},
): Promise<AppProcess> => {
  const [commandPort, queryPort] = [await freePort(), await freePort()];
  const ports = { COMMAND_PORT: String(commandPort), QUERY_PORT: String(queryPort) };
  const { child, exited } = spawnTally(databaseUrl, workersApart ? ['--roles', 'command,query'] : [], nodeArgs, { ...ports, ...env });
  const workers = workersApart ? spawnTally(databaseUrl, ['--roles', 'projector,reactor'], nodeArgs, { COMMAND_PORT: String(await freePort()), QUERY_PORT: String(await freePort()), ...env }) : undefined;
  const queryUrl = `http://127.0.0.1:${queryPort}`;
  for (let waited = 0; ; waited += 100) {
    const healthy = await fetch(`${queryUrl}/health`).then((reply) => reply.status === 200, () => false);
    if (healthy) break;
    if (waited > 60_000 || child.exitCode !== null) throw new Error('the app did not become healthy within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    commandUrl: `http://127.0.0.1:${commandPort}`,
    queryUrl,
    pids: [child.pid!, ...(workers ? [workers.child.pid!] : [])],
    stop: async () => {
      child.kill('SIGTERM');
      workers?.child.kill('SIGTERM');
      await Promise.all([exited, workers?.exited]);
    },
  };
};
