import { expect } from 'chai';
import pg from 'pg';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

describe('the test TCP proxy', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  let proxy: TcpProxy;
  let direct: pg.Client;
  const clients: pg.Client[] = [];

  const viaProxy = async (config: pg.ClientConfig = {}): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: proxy.url(database.url), ...config });
    client.on('error', () => undefined); // a cut connection reports here too
    clients.push(client);
    await client.connect();
    return client;
  };

  before(async () => {
    database = await createTestDatabase();
    direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    await direct.query('create table proxied (id int primary key)');
  });
  beforeEach(async () => {
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterEach(async () => {
    await proxy.close();
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  });
  after(async () => {
    await direct?.end();
    await database?.drop();
  });

  it('forwards a session and counts its connections', async () => {
    const client = await viaProxy();
    expect((await client.query<{ one: number }>('select 1 as one')).rows).to.deep.equal([{ one: 1 }]);
    expect(proxy.connections()).to.equal(1);
    await client.end();
    await until('the proxy holds no connection', () => proxy.connections() === 0, { timeoutMs: 2000, intervalMs: 10 });
  });

  for (const [protocol, commit] of [
    ['a simple query', { text: 'COMMIT;' }],
    ['the extended protocol', { text: 'commit', name: 'commit-prepared' }],
  ] as const) {
    it(`cuts the reply to a COMMIT sent as ${protocol}: the client sees an error, yet the row is committed`, async () => {
      const client = await viaProxy();
      await client.query('begin');
      await client.query('insert into proxied (id) values ($1)', [protocol.length]);
      const cut = proxy.cutAfterNextCommit();
      const error = await client.query(commit).then(() => undefined, (caught: unknown) => caught);
      await cut;
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(/Connection terminated/);
      const { rows } = await direct.query('select id from proxied where id = $1', [protocol.length]);
      expect(rows).to.have.length(1);
    });
  }

  it('cuts the reply to the COMMIT of a knex transaction', async () => {
    const knex = createKnex({ url: proxy.url(database.url), max: 1 });
    try {
      const cut = proxy.cutAfterNextCommit();
      const error = await knex.transaction((trx) => trx('proxied').insert({ id: 100 })).then(() => undefined, (caught: unknown) => caught);
      await cut;
      expect(error).to.be.instanceOf(Error);
      expect((await direct.query('select id from proxied where id = 100')).rows).to.have.length(1);
    } finally {
      await knex.destroy();
    }
  });

  it('leaves other statements and connections alone while waiting for a COMMIT', async () => {
    const cut = proxy.cutAfterNextCommit();
    const bystander = await viaProxy();
    await bystander.query('select 1');
    const client = await viaProxy();
    await client.query('begin');
    const failed = client.query('commit').then(() => false, () => true);
    await cut;
    expect(await failed).to.equal(true);
    expect((await bystander.query('select 2 as two')).rows).to.deep.equal([{ two: 2 }]);
  });

  it('cuts every open connection at once; the server ends those sessions, and new connections work', async () => {
    const first = await viaProxy({ application_name: 'proxy-cut-spec' });
    const second = await viaProxy({ application_name: 'proxy-cut-spec' });
    const ended = Promise.all([first, second].map((client) => new Promise((resolve) => client.once('end', resolve))));
    proxy.cut();
    await ended;
    expect(proxy.connections()).to.equal(0);
    const sessions = async () => (await direct.query(`select pid from pg_stat_activity where application_name = 'proxy-cut-spec'`)).rowCount;
    let left = await sessions();
    for (const deadline = Date.now() + 5000; left !== 0 && Date.now() < deadline; left = await sessions()) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(left).to.equal(0);
    const after = await viaProxy();
    expect((await after.query('select 4 as four')).rows).to.deep.equal([{ four: 4 }]);
  });

  it('blackholes: nothing comes back, sockets stay open, and only connections made afterwards work', async () => {
    const before = await viaProxy({ query_timeout: 300 });
    proxy.blackhole(true);
    const started = Date.now();
    const error = await before.query('select 1').then(() => undefined, (caught: unknown) => caught);
    expect((error as Error).message).to.equal('Query read timeout');
    expect(Date.now() - started).to.be.at.least(250);
    expect(proxy.connections()).to.equal(1);

    const during = new pg.Client({ connectionString: proxy.url(database.url), connectionTimeoutMillis: 300 });
    const connectError = await during.connect().then(() => undefined, (caught: unknown) => caught);
    expect(connectError).to.be.instanceOf(Error);

    proxy.blackhole(false);
    const after = await viaProxy();
    expect((await after.query('select 3 as three')).rows).to.deep.equal([{ three: 3 }]);
    const stillDead = await before.query('select 1').then(() => undefined, (caught: unknown) => caught);
    expect((stillDead as Error).message).to.equal('Query read timeout');
  });
});
