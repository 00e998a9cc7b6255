import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';
import { ALL_SUBSCRIBERS } from '../support/subscribers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SUBSCRIBERS = ALL_SUBSCRIBERS;

interface Row {
  subscriber: string;
  instance: string;
  state: string;
}

/**
 * Two worker processes (projector and rule engine) on one database, as in a
 * rolling deploy: one leads, the other stands by, and takes over within 5 s
 * when the leader is killed with SIGKILL.
 */
describe('one active projector and rule engine per database', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let status: pg.Client;
  const children: ChildProcess[] = [];
  let output = '';

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await status?.end();
    await database?.drop();
  });

  const startWorker = (): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tally.ts', 'start', '--roles', 'projector,reactor'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn', LEADER_CHECK_MS: '500' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    children.push(child);
    return child;
  };

  /** Each worker's rows, by its process id (the instance name holds it), refreshed within 5 s. */
  const rowsOf = async (pid: number | undefined): Promise<Map<string, string>> => {
    const { rows } = await status.query<Row>(`select subscriber, instance, state from tally_subscriber_status where heartbeat_at > now() - interval '5 seconds'`);
    return new Map(rows.filter((row) => row.instance.split(':')[1] === String(pid)).map((row) => [row.subscriber, row.state]));
  };
  /** How long to poll, and what a timeout says: every status row and what the workers logged. */
  const polling = {
    timeoutMs: 30_000,
    intervalMs: 50,
    detail: async () => {
      const { rows } = await status.query<Row>('select subscriber, instance, state from tally_subscriber_status');
      return `status: ${JSON.stringify(rows)}; workers said: ${output}`;
    },
  };
  const leads = (pid: number | undefined) => async () => {
    const rows = await rowsOf(pid);
    return SUBSCRIBERS.every((name) => rows.get(name) === 'running');
  };
  const standsBy = (pid: number | undefined) => async () => {
    const rows = await rowsOf(pid);
    return SUBSCRIBERS.every((name) => rows.get(name) === 'standby');
  };

  it('a second process stands by, and takes over both roles within 5 s of the leader being killed', async () => {
    const api = await runTally(database.url, { roles: ['command', 'query'] });
    try {
      status = new pg.Client({ connectionString: database.url });
      await status.connect();
      const campaign = await api.commands.post('/campaigns', { name: 'Failover' });
      await api.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
      const purchase = async (n: number) => (await api.commands.post('/events', { merchantId: 'M-1', customerId: `C-${n}`, amount: 1 })).body.id as string;

      const first = startWorker();
      await until('the first worker leads', leads(first.pid), polling);
      const second = startWorker();
      await until('the second worker stands by', standsBy(second.pid), polling);
      // Only the leader works: the standby's rows stay standby while events flow.
      const before = await purchase(1);
      expect((await api.queries.get(`/events/${before}?wait=10`)).body.status).to.equal('processed');
      expect(await standsBy(second.pid)()).to.equal(true);
      const health = await api.queries.get('/health');
      expect(health.status).to.equal(200);
      for (const name of SUBSCRIBERS) expect(health.body.subscribers[name]).to.deep.include({ state: 'running', standbys: 1 });

      first.kill('SIGKILL');
      const killed = Date.now();
      await until('the second worker leads', leads(second.pid), { ...polling, timeoutMs: 10_000 });
      expect(Date.now() - killed).to.be.below(5000);
      // The killed leader's rows are still fresh for a few seconds: /health shows the one that took over.
      const lingering = await status.query<Row>(`select subscriber, instance, state from tally_subscriber_status where heartbeat_at > now() - interval '10 seconds'`);
      expect(lingering.rows.filter((row) => row.instance.split(':')[1] === String(first.pid))).to.have.length(SUBSCRIBERS.length);
      const afterKill = await api.queries.get('/health');
      for (const name of SUBSCRIBERS) expect(afterKill.body.subscribers[name].instance.split(':')[1]).to.equal(String(second.pid));
      const after = await purchase(2);
      const decided = await api.queries.get(`/events/${after}?wait=10`);
      expect(decided.body.status).to.equal('processed');
      expect(decided.body.matchedRuleIds).to.have.length(1);
      // Nothing was decided or granted twice across the handover.
      const { rows } = await status.query<{ n: string }>(`select count(*) as n from tally_events where type = 'RuleMatched'`);
      expect(Number(rows[0]!.n)).to.equal(2);
    } finally {
      await api.stop();
    }
  });
});
