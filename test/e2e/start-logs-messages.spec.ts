import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../infrastructure/free-port.ts';
import { httpClient } from '../support/http-client.ts';
import { until } from '../support/until.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** What the log channel writes for one message (infrastructure/messaging/log-channel.ts). */
interface MessageLine {
  readonly msg: string;
  readonly channel?: string;
  readonly earningId?: string;
  readonly campaignId?: string;
  readonly recipient?: string;
  readonly body?: string;
}

/**
 * Issue 10, "done when": with no keys and no Redis, `npm start` logs a
 * composed message for every earning of a campaign with notifications. The
 * process is started as `npm start` starts it (tsx bin/tally.ts), on the
 * embedded PostgreSQL, with every LLM key, REDIS_URL and SMTP_URL removed
 * from its environment, and its stdout (pino's JSON lines) read back.
 */
describe('npm start with no keys and no Redis logs every earning’s message', function () {
  this.timeout(120_000);
  let dataDir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tally-messages-'));
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs a composed message (template, and prompt through the offline provider) for each earning', async () => {
    const env = { ...process.env };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'LLM_FALLBACK', 'SMTP_URL', 'EVENT_STORE', 'EVENTSTORE_CONNECTION_STRING']) delete env[name];
    const [commandPort, queryPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['--import', 'tsx', 'bin/tally.ts'], {
      cwd: root,
      env: { ...env, DATA_DIR: dataDir, COMMAND_PORT: String(commandPort), QUERY_PORT: String(queryPort), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: MessageLine[] = [];
    let partial = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        try {
          lines.push(JSON.parse(line) as MessageLine);
        } catch {
          // Not a log line (a library writing to stdout): not what this test reads.
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const commands = httpClient(`http://127.0.0.1:${commandPort}`);
    const queries = httpClient(`http://127.0.0.1:${queryPort}`);
    await until('tally is healthy', () => queries.get('/health').then((reply) => reply.status === 200, () => child?.exitCode !== null && Promise.reject(new Error(`tally exited: ${stderr}`))), {
      timeoutMs: 90_000, intervalMs: 100,
    });
    const health = await queries.get('/health');
    expect(health.body.cache).to.deep.equal({ status: 'ok', kind: 'memory' });

    const earnings: { earningId: string; campaignId: string }[] = [];
    for (const [name, notifications] of [
      ['Templated', { channel: 'log', recipient: 'data.email', template: 'Hi {{event.data.name}}, you earned {{earning.amount}} {{earning.currency}}' }],
      ['Prompted', { channel: 'log', recipient: 'customerId', prompt: 'Thank the customer for the purchase' }],
    ] as const) {
      const campaign = await commands.post('/campaigns', { name, notifications });
      expect(campaign.status, JSON.stringify(campaign.body)).to.equal(201);
      const rule = await commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: name }, reward: { type: 'fixed', amount: 2 } });
      expect(rule.status).to.equal(201);
      for (const customer of ['C-1', 'C-2']) {
        const event = await commands.post('/events', { merchantId: name, customerId: customer, amount: 10, data: { email: `${customer}@example.com`, name: customer } });
        const decided = await queries.get(`/events/${event.body.id}?wait=10`);
        expect(decided.body.earnings, JSON.stringify(decided.body)).to.have.length(1);
        earnings.push({ earningId: decided.body.earnings[0].id, campaignId: campaign.body.id });
      }
    }

    const logged = (earningId: string) => lines.filter((line) => line.msg === 'message' && line.channel === 'log' && line.earningId === earningId);
    await until('every earning’s message is in the log', () => earnings.every(({ earningId }) => logged(earningId).length > 0), {
      detail: () => JSON.stringify(lines.filter((line) => line.msg === 'message')),
    });
    const [t1, t2, p1, p2] = earnings.map(({ earningId }) => logged(earningId)[0]!);
    expect(t1).to.include({ recipient: 'C-1@example.com', body: 'Hi C-1, you earned 2 EUR', campaignId: earnings[0]!.campaignId });
    expect(t2).to.include({ recipient: 'C-2@example.com', body: 'Hi C-2, you earned 2 EUR' });
    for (const line of [p1!, p2!]) {
      expect(line.body).to.be.a('string').and.include('Thank the customer for the purchase');
      expect(line.campaignId).to.equal(earnings[2]!.campaignId);
    }
    expect([p1!.recipient, p2!.recipient]).to.deep.equal(['C-1', 'C-2']);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });
});
