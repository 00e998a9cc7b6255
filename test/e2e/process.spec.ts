import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { httpClient } from '../support/http-client.ts';
import { freePort } from '../../infrastructure/free-port.ts';

const root = path.resolve(import.meta.dirname, '../..');


/** Processes whose command line names the folder: an embedded PostgreSQL left behind would show here. */
const processesUsing = (folder: string): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(folder);
      } catch {
        return false;
      }
    })
    .map(Number);

const exited = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/**
 * `npm start` as a new user runs it: no DATABASE_URL, so an embedded
 * PostgreSQL under DATA_DIR. Runs in CI too, whatever DATABASE_URL says there.
 */
describe('tally as a process, on the embedded PostgreSQL', function () {
  this.timeout(120_000);
  let dataDir: string;
  const env = { ...process.env };
  delete env.DATABASE_URL;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tally-process-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const [commandPort, queryPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tally.ts'], {
      cwd: root,
      env: { ...env, DATA_DIR: dataDir, COMMAND_PORT: String(commandPort), QUERY_PORT: String(queryPort), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const commands = httpClient(`http://127.0.0.1:${commandPort}`);
    const queries = httpClient(`http://127.0.0.1:${queryPort}`);
    for (let i = 0; ; i++) {
      const healthy = await queries.get('/health').then((reply) => reply.status === 200, () => false);
      if (healthy) break;
      if (child.exitCode !== null || i > 600) throw new Error(`tally did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { child, commands, queries };
  };

  it('keeps its data across a restart and leaves no process behind on SIGTERM or SIGINT', async () => {
    const first = await start();
    const campaign = await first.commands.post('/campaigns', { name: 'survives restarts' });
    expect(campaign.status).to.equal(201);
    expect(processesUsing(dataDir).length).to.be.greaterThan(0);
    const firstExit = exited(first.child);
    first.child.kill('SIGTERM');
    expect(await firstExit).to.equal(0);
    expect(processesUsing(dataDir)).to.deep.equal([]);

    const second = await start();
    // The log kept the campaign; the projector may still be catching up on it after the restart.
    let view = await second.queries.get(`/campaigns/${campaign.body.id}`);
    for (let i = 0; i < 100 && view.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      view = await second.queries.get(`/campaigns/${campaign.body.id}`);
    }
    expect(view.status).to.equal(200);
    expect(view.body.name).to.equal('survives restarts');
    const secondExit = exited(second.child);
    second.child.kill('SIGINT');
    expect(await secondExit).to.equal(0);
    expect(processesUsing(dataDir)).to.deep.equal([]);
  });
});
