import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../infrastructure/free-port.ts';

const root = path.resolve(import.meta.dirname, '../..');


export interface AppProcess {
  readonly commandUrl: string;
  readonly queryUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The all-in-one app (`npm start`'s entry point) as a process of its own, on the given database. */
export const startAppProcess = async (databaseUrl: string, { env = {}, nodeArgs = [] }: { env?: Record<string, string>; nodeArgs?: readonly string[] } = {}): Promise<AppProcess> => {
  const [commandPort, queryPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bin/tally.ts', 'start'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, COMMAND_PORT: String(commandPort), QUERY_PORT: String(queryPort), LOG_LEVEL: 'warn', API_USERNAME: 'admin', API_PASSWORD: 'admin', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
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
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
};
