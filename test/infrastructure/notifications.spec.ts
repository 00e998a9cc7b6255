import { expect } from 'chai';
import pg from 'pg';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from '../../infrastructure/config.ts';
import { listenToChannel, type ChannelListener } from '../../infrastructure/postgres/notifications.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

// Long enough that only close() can end an attempt that gets no answer.
const timeouts: DatabaseTimeouts = { ...DEFAULT_DATABASE_TIMEOUTS, connectTimeoutMs: 60_000 };
const APPLICATION = 'tally-listen-spec';

const polling = { timeoutMs: 10_000, intervalMs: 20 };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the LISTEN connection when it is cut', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let admin: pg.Client;
  let proxy: TcpProxy;
  let listener: ChannelListener | undefined;

  /** The listener's sessions as the server sees them. */
  const sessions = async (): Promise<number> =>
    (await admin.query('select pid from pg_stat_activity where application_name = $1', [APPLICATION])).rowCount ?? 0;
  const listen = (): ChannelListener => {
    const url = new URL(proxy.url(database.url));
    url.searchParams.set('application_name', APPLICATION);
    listener = listenToChannel(url.toString(), 'watched', timeouts);
    return listener;
  };
  const hears = async (on: ChannelListener): Promise<void> => {
    const seen = on.generation();
    await until('a notification arrives', async () => {
      await admin.query('notify watched');
      return on.generation() > seen;
    }, polling);
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
    await listener?.close();
    listener = undefined;
    await proxy.close();
  });
  after(async () => {
    await admin?.end();
    await database?.drop();
  });

  it('keeps one session however often it is lost, hears notifications still, and leaves none after close()', async () => {
    const listening = listen();
    await hears(listening);
    for (let round = 0; round < 6; round++) {
      // The next attempt fails in mid-LISTEN, where pg reports the loss twice: as the query's error and as the client's.
      const listenCut = round % 3 === 2 ? proxy.cutAfterNext((statement) => /^\s*listen\b/i.test(statement)) : undefined;
      // The network drops it, or the server ends it.
      if (round % 3 === 1) await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [APPLICATION]);
      else proxy.cut();
      await listenCut;
      await until('it is back', async () => (await sessions()) > 0, polling);
      await hears(listening);
    }
    // A second reconnect would come within a few retry delays (100 ms, doubling).
    await pause(1500);
    expect(await sessions()).to.equal(1);
    expect(proxy.connections()).to.equal(1);
    await hears(listening);

    await listening.close();
    await until('no session is left', async () => (await sessions()) === 0 && proxy.connections() === 0, polling);
  });

  it('close() cancels a reconnect that is pending: none comes afterwards', async () => {
    const listening = listen();
    await hears(listening);
    proxy.cut();
    await listening.close();
    await pause(1000); // well past the first retry delay
    expect(await sessions()).to.equal(0);
    expect(proxy.connections()).to.equal(0);
  });

  it('close() ends an attempt that is still waiting for the server', async () => {
    proxy.blackhole(true);
    const listening = listen();
    await until('an attempt is under way', () => proxy.connections() === 1, polling);
    await listening.close();
    // Without close() ending it, it would wait for the 60 s connect timeout.
    await until('the attempt is ended', () => proxy.connections() === 0, { ...polling, timeoutMs: 5000 });
    await pause(500); // and no other attempt follows
    expect(proxy.connections()).to.equal(0);
  });

  it('counts only the payloads it was asked for, when given some', async () => {
    listener = listenToChannel(database.url, 'watched', timeouts, ['wanted']);
    const on = listener;
    await until('listening', async () => on.generation() > 0, polling);
    const before = on.generation();
    await admin.query(`notify watched, 'other'`);
    await admin.query(`notify watched, 'wanted'`);
    await until('the wanted one is heard', async () => on.generation() > before, polling);
    await admin.query(`notify watched, 'other'`);
    await pause(200);
    expect(on.generation()).to.equal(before + 1);
  });
});
