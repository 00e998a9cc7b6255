import { expect } from 'chai';
import pg from 'pg';
import { capturedLogger, WARN, type LogEntry } from '../support/captured-logger.ts';
import type { Reply } from '../support/http-client.ts';
import { runTally } from '../support/running-tally.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Short limits, so that a wait that is bounded ends in about a second. */
const env = {
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_LOCK_TIMEOUT_MS: '500',
  DATABASE_QUERY_TIMEOUT_MS: '1500',
  DATABASE_CONNECT_TIMEOUT_MS: '500',
};

/** Fails instead of waiting past `ms`: a hang must show as a failure, not as a stuck suite. */
const within = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
};

const eventually = async (check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const expectOutage = (reply: Reply): void => {
  expect(reply.status).to.equal(503);
  expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(reply.headers.get('retry-after')).to.match(/^\d+$/);
  expect(reply.body).to.include({ status: 503 });
};

/** Holds `stream`'s row in tally_streams, as a stuck transaction elsewhere would, until `release` (idempotent). */
const lockStream = async (databaseUrl: string, stream: string) => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('begin');
  const { rowCount } = await client.query('select revision from tally_streams where stream_id = $1 for update', [stream]);
  expect(rowCount).to.equal(1);
  let released = false;
  return {
    revision: async () => (await client.query<{ revision: string }>('select revision from tally_streams where stream_id = $1', [stream])).rows[0]?.revision,
    release: async () => {
      if (released) return;
      released = true;
      await client.query('rollback');
      await client.end();
    },
  };
};

describe('no hang without a report', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await database?.drop();
  });

  it('answers a write to a locked campaign with a 503 within the lock timeout, reported in the log, and succeeds once the lock goes', async () => {
    const { logger, entries } = capturedLogger();
    const app = await runTally(database.url, { env, logger, roles: ['command'] });
    cleanups.push(() => app.stop());
    const campaign = await app.commands.post('/campaigns', { name: 'Locked' });
    const lock = await lockStream(database.url, `campaign-${campaign.body.id}`);
    cleanups.push(() => lock.release());

    const started = Date.now();
    const refused = await within(5000, app.commands.post(`/campaigns/${campaign.body.id}/pause`));
    expectOutage(refused);
    expect(Date.now() - started).to.be.below(3000);
    expect(entries.some((entry) => entry.level === WARN && entry.err?.code === '55P03')).to.equal(true);
    expect(await lock.revision()).to.equal('0'); // nothing was changed

    await lock.release();
    const paused = await within(5000, app.commands.post(`/campaigns/${campaign.body.id}/pause`));
    expect(paused.status).to.equal(200);
    expect(paused.body).to.include({ status: 'paused', revision: '1' });
  });

  describe('through a proxy', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      const target = new URL(database.url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      cleanups.push(() => proxy.close());
    });

    it('answers a read with a 503 within the query timeout when the database stops answering, and recovers on new connections', async () => {
      const app = await runTally(proxy.url(database.url), { env, roles: ['query'] });
      cleanups.push(() => app.stop());
      expect((await app.queries.get('/campaigns')).status).to.equal(200);

      proxy.blackhole(true);
      const started = Date.now();
      expectOutage(await within(5000, app.queries.get('/campaigns')));
      expect(Date.now() - started).to.be.below(3000);

      proxy.blackhole(false);
      // Connections opened before stay dead; each is dropped after its query times out.
      await eventually(async () => (await within(5000, app.queries.get('/campaigns'))).status === 200, 15_000);
      for (let i = 0; i < 3; i++) expect((await within(5000, app.queries.get('/campaigns'))).status).to.equal(200);
    });
  });

  it('retries the rule engine’s decision while its stream is locked, reporting each attempt, and decides it once the lock goes', async () => {
    const writer = await runTally(database.url, { env, roles: ['command'] });
    const campaign = await writer.commands.post('/campaigns', { name: 'Engine' });
    const rule = await writer.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 5 } });
    const tracked = await writer.commands.post('/events', { type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 10 });
    expect(tracked.status).to.equal(202);
    await writer.stop(); // no rule engine has seen the event yet
    const lock = await lockStream(database.url, `tracked-event-${tracked.body.id}`);
    cleanups.push(() => lock.release());

    const { logger, entries } = capturedLogger();
    const app = await runTally(database.url, { env, logger, roles: ['reactor', 'projector', 'query'] });
    cleanups.push(() => app.stop());
    const retried = (entry: LogEntry): boolean => entry.level === WARN && entry.err?.code === '55P03' && /appending the decisions/.test(entry.msg);
    await eventually(async () => entries.filter(retried).length >= 2, 15_000);
    expect(await lock.revision()).to.equal('0'); // still only EventRegistered: neither skipped nor decided

    await lock.release();
    const decided = await within(20_000, app.queries.get(`/events/${tracked.body.id}?wait=15`));
    expect(decided.body).to.include({ status: 'processed', matchedRuleId: rule.body.id });
    const types: string[] = [];
    for await (const event of app.tally.store.readStream(`tracked-event-${tracked.body.id}`)) types.push(event.type);
    expect(types).to.deep.equal(['EventRegistered', 'RuleMatched']);
  });

  it('starts while another instance migrates for longer than the lock timeout: schema changes wait rather than fail', async () => {
    await (await runTally(database.url, { env, roles: [] })).stop();
    // What another instance holds while it runs its migrations.
    const migrating = new pg.Client({ connectionString: database.url });
    await migrating.connect();
    cleanups.push(() => migrating.end());
    await migrating.query('begin');
    await migrating.query('select * from tally_event_store_migrations_lock for update');

    const started = Date.now();
    const starting = runTally(database.url, { env, roles: ['command'] });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // three lock timeouts
    await migrating.query('rollback');
    const app = await within(5000, starting);
    cleanups.push(() => app.stop());
    expect(Date.now() - started).to.be.at.least(1500);
    expect((await app.commands.post('/campaigns', { name: 'After the migration' })).status).to.equal(201);
  });
});
