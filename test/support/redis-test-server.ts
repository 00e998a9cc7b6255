import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../infrastructure/free-port.ts';
import { until } from './until.ts';

/** Why Redis tests cannot run here, or undefined when they can. */
export const redisServerMissing = (): string | undefined => {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error ? `redis-server is not installed (${probe.error.message}); install it (apt-get install redis-server) to run the Redis tests` : undefined;
};

const answersPing = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.on('connect', () => socket.write('PING\r\n'));
  });

export interface RedisTestServer {
  readonly url: string;
  readonly port: number;
  /** Ends the server (as a crash or a restart would); data is not kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open but nothing answers, until resume(). */
  pause(): void;
  resume(): void;
}

/**
 * A redis-server of the test's own, on a free port, without persistence: the
 * test may stop and start it at will, which the machine's shared Redis must
 * never be. Stopped by `stop()` (call it in an after hook).
 */
export const startRedisTestServer = async (): Promise<RedisTestServer> => {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: RedisTestServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    start: async () => {
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
      child = started;
      await until(`redis-server answers on port ${port}`, async () => started.exitCode === null && (await answersPing(port)), { timeoutMs: 10_000 });
    },
    stop: async () => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGCONT');
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
  await server.start();
  return server;
};
