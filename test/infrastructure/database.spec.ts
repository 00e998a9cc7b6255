import net from 'node:net';
import { expect } from 'chai';
import type { Knex } from 'knex';
import pg from 'pg';
import type { DatabaseTimeouts } from '../../infrastructure/config.ts';
import { toProblem } from '../../infrastructure/http/problem.ts';
import { createKnex, createPool, migrationTimeouts } from '../../infrastructure/postgres/database.ts';
import { listenToChannel, type ChannelListener } from '../../infrastructure/postgres/notifications.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const timeouts: DatabaseTimeouts = {
  statementTimeoutMs: 300, lockTimeoutMs: 200, idleInTransactionTimeoutMs: 5000, queryTimeoutMs: 800, connectTimeoutMs: 300, keepAliveMs: 4321,
};

const failure = (work: Promise<unknown>): Promise<unknown> => work.then(() => undefined, (error: unknown) => error);

/** How long `work` took to settle, and its error if it failed. */
const timed = async (work: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> => {
  const started = Date.now();
  const error = await failure(work());
  return { ms: Date.now() - started, error };
};

describe('PostgreSQL connections: no wait without a bound', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  let admin: pg.Client;
  let proxy: TcpProxy;
  const closers: (() => Promise<unknown>)[] = [];
  const pool = (url = database.url) => {
    const created = createPool({ url, max: 1, timeouts });
    closers.push(() => created.end());
    return created;
  };
  const knex = (url = database.url, chosen = timeouts) => {
    const created = createKnex({ url, max: 1, timeouts: chosen });
    closers.push(() => created.destroy());
    return created;
  };

  before(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('create table guarded (id int primary key); insert into guarded values (1)');
  });
  beforeEach(async () => {
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterEach(async () => {
    await proxy.close();
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });
  after(async () => {
    await admin?.end();
    await database?.drop();
  });

  it('sets the server-side limits on pool and knex connections; migrations get no statement, lock or query limit', async () => {
    const settings = async (query: (sql: string) => Promise<string>) => ({
      statement: await query('show statement_timeout'),
      lock: await query('show lock_timeout'),
      idleInTransaction: await query('show idle_in_transaction_session_timeout'),
    });
    const expected = { statement: '300ms', lock: '200ms', idleInTransaction: '5s' };
    const fromPool = pool();
    expect(await settings(async (sql) => Object.values((await fromPool.query(sql)).rows[0] as object)[0] as string)).to.deep.equal(expected);
    const fromKnex = knex();
    const viaKnex = async (sql: string) => Object.values((await fromKnex.raw(sql)).rows[0] as object)[0] as string;
    expect(await settings(viaKnex)).to.deep.equal(expected);

    const migrator = knex(database.url, migrationTimeouts(timeouts));
    expect((await migrator.raw('show statement_timeout')).rows[0]).to.deep.equal({ statement_timeout: '0' });
    await migrator.raw('select pg_sleep(0.9)'); // longer than both the statement and the query timeouts
  });

  it('lets the server cancel a statement over the statement timeout: a 503, not a 500', async () => {
    for (const run of [() => pool().query('select pg_sleep(5)'), () => knex().raw('select pg_sleep(5)')]) {
      const { ms, error } = await timed(run);
      expect(error).to.include({ code: '57014' });
      expect(ms).to.be.below(2000);
      expect(toProblem(error)).to.include({ status: 503 });
    }
  });

  it('gives up waiting for a row lock after the lock timeout: a 503', async () => {
    await admin.query('begin');
    try {
      await admin.query('select * from guarded where id = 1 for update');
      for (const run of [() => pool().query('update guarded set id = 1 where id = 1'), () => knex()('guarded').where({ id: 1 }).update({ id: 1 })]) {
        const { ms, error } = await timed(run);
        expect(error).to.include({ code: '55P03' });
        expect(ms).to.be.below(2000);
        expect(toProblem(error)).to.include({ status: 503 });
      }
    } finally {
      await admin.query('rollback');
    }
  });

  it('fails a query the server never answers after the query timeout (a 503), and never reuses its connection', async () => {
    const viaPool = pool(proxy.url(database.url));
    const viaKnex = knex(proxy.url(database.url));
    await viaPool.query('select 1');
    await viaKnex.raw('select 1');
    proxy.blackhole(true);
    for (const run of [() => viaPool.query('select 1'), () => viaKnex.raw('select 1')]) {
      const { ms, error } = await timed(run);
      expect((error as Error).message).to.match(/Query read timeout/);
      expect(ms).to.be.within(700, 2000);
      expect(toProblem(error)).to.include({ status: 503 });
    }
    proxy.blackhole(false);
    // One connection each, the dead one: only a new connection can answer.
    expect((await viaPool.query('select 2 as two')).rows).to.deep.equal([{ two: 2 }]);
    expect((await viaKnex.raw('select 2 as two')).rows).to.deep.equal([{ two: 2 }]);
  });

  it('gives up connecting to a server that does not answer after the connect timeout: a 503', async () => {
    proxy.blackhole(true);
    for (const run of [() => pool(proxy.url(database.url)).query('select 1'), () => knex(proxy.url(database.url)).raw('select 1')]) {
      const { ms, error } = await timed(run);
      expect(error).to.be.instanceOf(Error);
      expect(ms).to.be.below(1500);
      expect(toProblem(error)).to.include({ status: 503 });
    }
  });

  describe('the LISTEN connection', () => {
    let listener: ChannelListener | undefined;
    afterEach(async () => {
      await listener?.close();
      listener = undefined;
    });

    it('gives up an attempt that gets no answer and tries again, so it comes back with the server', async () => {
      proxy.blackhole(true);
      listener = listenToChannel(proxy.url(database.url), 'guarded_channel', timeouts);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(listener.generation()).to.equal(0);
      proxy.blackhole(false);
      await until('the listener is connected and listening', () => listener!.generation() > 0, { timeoutMs: 5000, intervalMs: 20 });
      const seen = listener.generation();
      await until(
        'a notification arrives',
        async () => {
          await admin.query(`notify guarded_channel`);
          return listener!.generation() > seen;
        },
        { timeoutMs: 3000, intervalMs: 20 },
      );
    });
  });

  describe('TCP keepalive', () => {
    const delays: number[] = [];
    const setKeepAlive = net.Socket.prototype.setKeepAlive;
    before(() => {
      net.Socket.prototype.setKeepAlive = function (this: net.Socket, enable?: boolean, delay?: number) {
        if (enable) delays.push(delay ?? 0);
        return setKeepAlive.call(this, enable, delay);
      };
    });
    after(() => {
      net.Socket.prototype.setKeepAlive = setKeepAlive;
    });

    it('is on for pool, knex and LISTEN connections, after the configured silence', async () => {
      const opened = async (open: () => Promise<unknown>): Promise<number[]> => {
        delays.length = 0;
        await open();
        return [...delays];
      };
      expect(await opened(() => pool().query('select 1'))).to.deep.equal([4321]);
      const fromKnex: Knex = knex();
      expect(await opened(() => fromKnex.raw('select 1'))).to.deep.equal([4321]);
      expect(
        await opened(async () => {
          const listener = listenToChannel(database.url, 'kept_alive', timeouts);
          closers.push(() => listener.close());
          await until('the listener is connected', () => listener.generation() > 0, { timeoutMs: 3000, intervalMs: 20 });
        }),
      ).to.deep.equal([4321]);
    });
  });
});
