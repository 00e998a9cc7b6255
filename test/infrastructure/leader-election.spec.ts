import { expect } from 'chai';
import pg from 'pg';
import { DEFAULT_DATABASE_TIMEOUTS } from '../../infrastructure/config.ts';
import { LEADER_LOCKS, lockSession, runElection, type Election, type ElectionOptions, type Led } from '../../infrastructure/postgres/leader-election.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const polling = { timeoutMs: 10_000, intervalMs: 20 };

describe('leader election', function () {
  this.timeout(40_000);
  let database: TestDatabase;
  let admin: pg.Client;
  let proxy: TcpProxy;
  const elections: Election[] = [];

  const elect = (options: Partial<ElectionOptions> & Pick<ElectionOptions, 'lead'>): Election => {
    const election = runElection({ url: database.url, role: 'projector', logger: silentLogger, intervalMs: 100, onStandby: () => undefined, ...options });
    elections.push(election);
    return election;
  };
  /** The backend that holds the projector's lock now. */
  const holder = async (): Promise<number | undefined> => {
    const { classId, objectId } = LEADER_LOCKS.projector;
    const { rows } = await admin.query<{ pid: number }>(
      `select pid from pg_locks where locktype = 'advisory' and classid = $1 and objid = $2 and objsubid = 2 and granted`,
      [classId, objectId],
    );
    return rows[0]?.pid;
  };

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  beforeEach(async () => {
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((election) => election.stop()));
    await proxy.close();
  });
  after(async () => {
    await admin?.end();
    await database?.drop();
  });

  it('has PostgreSQL drop a silent leader\'s session by keepalive, but only after that leader would have stepped down', async () => {
    for (const intervalMs of [1000, 60_000]) {
      const session = lockSession(database.url, 'projector', intervalMs, DEFAULT_DATABASE_TIMEOUTS);
      const client = new pg.Client(session.config);
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string; setting: string }>(`select name, setting from pg_settings where name like 'tcp_keepalives_%'`);
        const setting = Object.fromEntries(rows.map(({ name, setting }) => [name, Number(setting)]));
        if (intervalMs === 1000) {
          // DATABASE_KEEPALIVE_MS (10 s) of silence, then three probes a second apart.
          expect(setting).to.deep.equal({ tcp_keepalives_idle: 10, tcp_keepalives_interval: 1, tcp_keepalives_count: 3 });
          expect(session.checkTimeoutMs).to.equal(3000);
        }
        const serverGivesUpMs = 1000 * (setting.tcp_keepalives_idle! + setting.tcp_keepalives_interval! * setting.tcp_keepalives_count!);
        expect(serverGivesUpMs).to.be.above(intervalMs + session.checkTimeoutMs);
      } finally {
        await client.end();
      }
    }
  });

  it('stops leading when its lock connection hangs, and only then does a standby take over', async () => {
    const happened: string[] = [];
    const role = (name: string) => async (): Promise<Led> => {
      happened.push(`${name} leads`);
      return { stop: async () => void happened.push(`${name} stopped`) };
    };
    // The default query timeout (35 s) is longer than this test waits: only the check's own limit can end it.
    const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, connectTimeoutMs: 1000 };
    const first = elect({ url: proxy.url(database.url), timeouts, lead: role('first'), intervalMs: 200 });
    await until('the first leads', () => first.isLeader(), polling);
    let standingBy = false;
    const second = elect({ timeouts, lead: role('second'), intervalMs: 200, onStandby: () => (standingBy = true) });
    await until('the second stands by', () => standingBy, polling);

    proxy.blackhole(true);
    await until('the first stops leading', () => !first.isLeader(), { ...polling, timeoutMs: 20_000 });
    await until('the second leads', () => second.isLeader(), { ...polling, timeoutMs: 20_000 });
    expect(happened).to.deep.equal(['first leads', 'first stopped', 'second leads']);
  });

  it('is leader only once the role has started; a role that fails to start lets the lock go and is tried again', async () => {
    const { logger, entries } = capturedLogger();
    const holders: (number | undefined)[] = [];
    const leaderWhileStarting: boolean[] = [];
    let started: ((led: Led) => void) | undefined;
    let stopped = false;
    const election: Election = elect({
      logger,
      lead: async () => {
        holders.push(await holder());
        await new Promise((resolve) => setTimeout(resolve, 200));
        leaderWhileStarting.push(election.isLeader());
        if (holders.length === 1) throw new Error('the role cannot start');
        return new Promise<Led>((resolve) => (started = resolve));
      },
    });
    const start = () => started?.({ stop: async () => void (stopped = true) });
    try {
      await until('the role is tried again', () => started !== undefined, polling);
      expect(leaderWhileStarting).to.deep.equal([false, false]);
      expect(election.isLeader()).to.equal(false);
      expect(entries.map(({ msg }) => msg)).to.include('the role failed to start; releasing the lock and trying again');
      // The lock went with the first session: the second attempt holds it on a new one.
      expect(holders[0]).to.be.a('number');
      expect(holders[1]).to.be.a('number').and.not.equal(holders[0]);
    } finally {
      start(); // or stopping the election would wait for it for ever
    }
    await until('it leads', () => election.isLeader(), polling);
    await election.stop();
    expect(election.isLeader()).to.equal(false);
    expect(stopped).to.equal(true);
  });
});
