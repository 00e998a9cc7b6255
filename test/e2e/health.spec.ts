import { expect } from 'chai';
import pg from 'pg';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';
import { ALL_SUBSCRIBERS } from '../support/subscribers.ts';

const SUBSCRIBERS = ALL_SUBSCRIBERS;

const polling = { intervalMs: 100, detail: JSON.stringify };

/** Stuck work is never silent: /health on both APIs shows every subscriber. */
describe('health of the subscribers', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let sql: pg.Client;
  beforeEach(async () => {
    database = await createTestDatabase();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });
  afterEach(async () => {
    await sql.end();
    await database.drop();
  });

  it('shows each projection and the rule engine with its position, lag and state, on both APIs', async () => {
    const app = await runTally(database.url);
    try {
      const campaign = await app.commands.post('/campaigns', { name: 'Healthy' });
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
      const purchase = await app.commands.post('/events', { merchantId: 'M-1', customerId: 'C-1' });
      expect((await app.queries.get(`/events/${purchase.body.id}?wait=10`)).body.status).to.equal('processed');
      for (const api of [app.commands, app.queries]) {
        const health = await until('every subscriber is current', () => api.get('/health'), {
          ...polling,
          ok: (reply) => SUBSCRIBERS.every((name) => reply.body.subscribers?.[name]?.state === 'running' && reply.body.subscribers[name].lag.events === 0),
        });
        expect(health.status).to.equal(200);
        expect(health.body.checks).to.deep.include({ database: 'ok', eventStore: 'ok', subscribers: 'ok' });
        for (const name of SUBSCRIBERS) {
          expect(health.body.subscribers[name]).to.include.keys('position', 'lag', 'since', 'instance', 'standbys');
          expect(health.body.subscribers[name].lag).to.deep.equal({ events: 0, seconds: 0 });
        }
      }
      const projections = await app.queries.get('/projections');
      expect(Object.keys(projections.body.projections).sort()).to.deep.equal(SUBSCRIBERS.filter((name) => name.startsWith('projection:')).sort());
    } finally {
      await app.stop();
    }
  });

  it('shows a projection that cannot apply an event as failing, with the error and where it is stuck (503), and recovers', async () => {
    const app = await runTally(database.url);
    try {
      await until('read models exist', () => sql.query(`select to_regclass('rm_campaigns') as t`), { ...polling, ok: ({ rows }) => rows[0].t !== null });
      await sql.query(`alter table rm_campaigns add constraint refuse_me check (name <> 'Refuse me')`);
      const refused = await app.commands.post('/campaigns', { name: 'Refuse me' });
      for (const api of [app.commands, app.queries]) {
        const health = await until('the campaigns projection is failing', () => api.get('/health'), { ...polling, ok: (reply) => reply.body.subscribers['projection:campaigns'].state === 'failing' });
        expect(health.status).to.equal(503);
        expect(health.body.subscribers['projection:campaigns'].error).to.match(/refuse_me/);
        expect(health.body.subscribers['projection:campaigns'].stuckAt).to.equal(refused.body.position);
        expect(health.body.checks.subscribers).to.match(/projection:campaigns failing/);
        // The others go on.
        expect(health.body.subscribers['reactor:rule-engine'].state).to.equal('running');
      }
      // Never skipped: once the cause is gone, the same event is applied.
      await sql.query('alter table rm_campaigns drop constraint refuse_me');
      const healed = await until('health is back', () => app.queries.get('/health'), { ...polling, ok: (reply) => reply.status === 200 });
      expect(healed.body.subscribers['projection:campaigns'].state).to.equal('running');
      expect((await app.queries.get(`/campaigns/${refused.body.id}`)).status).to.equal(200);
    } finally {
      await app.stop();
    }
  });

  it('answers 503 while a subscriber lags more than HEALTH_MAX_LAG_SECONDS, though it is not failing', async () => {
    const app = await runTally(database.url, { env: { HEALTH_MAX_LAG_SECONDS: '1', DATABASE_LOCK_TIMEOUT_MS: '30000' } });
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await until('read models exist', () => sql.query(`select to_regclass('rm_tracked_events') as t`), { ...polling, ok: ({ rows }) => rows[0].t !== null });
      // A long report holds a lock the projection needs: it waits, it does not fail.
      await blocker.query('begin');
      await blocker.query('lock table rm_tracked_events in share mode');
      await app.commands.post('/events', { merchantId: 'M-1', customerId: 'C-1' });
      const lagging = await until('the tracked-events projection lags', () => app.queries.get('/health'), {
        ...polling,
        ok: (reply) => reply.status === 503 && reply.body.subscribers['projection:tracked-events'].lag?.seconds > 1,
      });
      expect(lagging.body.subscribers['projection:tracked-events'].state).to.be.oneOf(['running', 'catching-up']);
      expect(lagging.body.subscribers['projection:tracked-events'].lag.events).to.be.at.least(1);
      expect(lagging.body.subscribers['projection:tracked-events'].lag.seconds).to.be.above(1);
      expect(lagging.body.checks.subscribers).to.match(/projection:tracked-events lags/);
      await blocker.query('rollback');
      await until('health is back', () => app.queries.get('/health'), { ...polling, ok: (reply) => reply.status === 200 });
    } finally {
      await blocker.end();
      await app.stop();
    }
  });

  it('shows the instance that took a subscriber on last, though a gone leader\'s row is still fresh and further', async () => {
    const app = await runTally(database.url);
    try {
      await until('every subscriber runs', () => app.queries.get('/health'), { ...polling, ok: (reply) => SUBSCRIBERS.every((name) => reply.body.subscribers?.[name]?.state === 'running') });
      // What a leader killed a moment ago leaves: its rows, fresh for a few seconds more, as far as it got.
      const gone = 'gone-host:1:dead';
      await sql.query(
        `insert into tally_subscriber_status (subscriber, instance, state, position, since, tracked_at, heartbeat_at)
         select name, $2, 'running', '00000000000999999999:00000000000000999999', now() - interval '1 minute', now() - interval '1 minute', now()
           from unnest($1::text[]) as name`,
        [SUBSCRIBERS, gone],
      );
      const health = await app.queries.get('/health');
      for (const name of SUBSCRIBERS) {
        expect(health.body.subscribers[name].instance).to.not.equal(gone);
        expect(health.body.subscribers[name]).to.deep.include({ state: 'running', standbys: 0 });
      }
      // Had it taken the subscribers on after this process, it would be the leader.
      await sql.query(`update tally_subscriber_status set tracked_at = now() + interval '1 minute' where instance = $1`, [gone]);
      const later = await app.queries.get('/health');
      for (const name of SUBSCRIBERS) expect(later.body.subscribers[name].instance).to.equal(gone);
    } finally {
      await app.stop();
    }
  });

  it('shows a second worker process as standby from its first row on', async () => {
    const app = await runTally(database.url);
    let second: Awaited<ReturnType<typeof runTally>> | undefined;
    try {
      await until('every subscriber runs', () => app.queries.get('/health'), { ...polling, ok: (reply) => SUBSCRIBERS.every((name) => reply.body.subscribers?.[name]?.state === 'running') });
      await sql.query(`
        create table written_states (instance text, subscriber text, state text);
        create function written() returns trigger language plpgsql as $$ begin insert into written_states values (new.instance, new.subscriber, new.state); return new; end $$;
        create trigger written after insert or update on tally_subscriber_status for each row execute function written();
      `);
      second = await runTally(database.url, { roles: ['projector', 'reactor'] });
      const health = await until('the second process stands by', () => app.queries.get('/health'), { ...polling, ok: (reply) => SUBSCRIBERS.every((name) => reply.body.subscribers?.[name]?.standbys === 1) });
      for (const name of SUBSCRIBERS) expect(health.body.subscribers[name].state).to.equal('running');
      // Never shown as a second active instance, not even for a moment.
      const { rows } = await sql.query<{ instance: string; states: string[] }>(
        `select instance, array_agg(distinct state order by state) as states from written_states group by instance having bool_or(state = 'standby')`,
      );
      expect(rows).to.have.length(1);
      expect(rows[0]!.states).to.deep.equal(['standby']);
    } finally {
      await second?.stop();
      await app.stop();
    }
  });

  it('answers 503 when no process runs the projector or the rule engine', async () => {
    const app = await runTally(database.url, { roles: ['command', 'query'] });
    try {
      const health = await app.queries.get('/health');
      expect(health.status).to.equal(503);
      for (const name of SUBSCRIBERS) expect(health.body.subscribers[name]).to.deep.include({ state: 'stopped', standbys: 0 });
    } finally {
      await app.stop();
    }
  });
});
