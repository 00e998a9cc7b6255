import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { eventStoreContract, readUntil } from './event-store-contract.ts';

const createStore = async () => {
  const created = await createPostgresStoreForTest();
  return { ...created, teardown: created.stop };
};

eventStoreContract('PostgreSQL', createStore);

describe('PostgreSQL event store', () => {
  let underTest: Awaited<ReturnType<typeof createStore>>;
  let database: TestDatabase;
  before(async () => {
    underTest = await createStore();
    database = underTest.database;
  });
  after(async () => underTest?.teardown());

  /** A session in another database of the same cluster, holding a transaction that has an id but appends nothing. */
  const holdForeignTransaction = async () => {
    const other = await createTestDatabase();
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    await client.query('begin');
    const { rows } = await client.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
    return {
      xid: rows[0]!.xid,
      release: async () => {
        await client.query('rollback').catch(() => undefined);
        await client.end();
        await other.drop();
      },
    };
  };

  const neverSkips = async () => {
    // Raw transactions of different lengths: each takes its sequence number at once
    // but commits after a random pause, so commits land out of sequence order.
    const { store } = underTest;
    const prefix = `skip-${randomUUID().slice(0, 8)}`;
    const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
    const writers = 12;
    const perWriter = 15;
    const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [`${prefix}-w`] } });
    const reading = readUntil(subscription, (seen) => seen.length >= writers * perWriter, 60_000);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          for (let i = 0; i < perWriter; i++) {
            await client.query('begin');
            await client.query(`select * from tally_append_one($1, -2, $2::uuid, 'Numbered', $3::jsonb, '{}'::jsonb)`, [
              `${prefix}-w${w}`,
              randomUUID(),
              JSON.stringify({ w, i }),
            ]);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
            await client.query('commit');
            await client.query(`select pg_notify('tally_events', '')`);
          }
        } finally {
          await client.end();
        }
      }),
    );
    const seen = await reading;
    expect(seen).to.have.length(writers * perWriter);
    expect(new Set(seen.map((e) => `${e.data.w}/${e.data.i}`)).size).to.equal(writers * perWriter);
    const positions = seen.map((e) => e.position);
    expect([...positions].sort()).to.deep.equal(positions);
    // Within each writer's stream, revisions arrive in order.
    for (let w = 0; w < writers; w++) {
      expect(seen.filter((e) => e.data.w === w).map((e) => e.data.i)).to.deep.equal(Array.from({ length: perWriter }, (_, i) => i));
    }
  };

  it('never skips an event whose transaction commits after a later one', async function () {
    this.timeout(120_000);
    await neverSkips();
  });

  it('never skips one either while a transaction that appends nothing stays open elsewhere in the cluster', async function () {
    this.timeout(120_000);
    const foreign = await holdForeignTransaction();
    try {
      await neverSkips();
    } finally {
      await foreign.release();
    }
  });

  it('is not held back by a transaction that appends nothing, in another database or in its own', async () => {
    const { store } = underTest;
    const foreign = await holdForeignTransaction();
    // And one in the log's own database that writes something else (a report, a read model).
    const local = new pg.Client({ connectionString: database.url });
    await local.connect();
    try {
      await local.query('begin');
      await local.query('create temporary table scratch (n int) on commit drop; insert into scratch values (1)');
      const prefix = `held-${randomUUID().slice(0, 8)}`;
      const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
      const subscription = store.subscribeToAll({ fromPosition: start.position });
      const began = Date.now();
      const reading = readUntil(subscription, (seen) => seen.length >= 3, 5_000);
      for (let n = 0; n < 3; n++) await store.appendToStream(`${prefix}-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' });
      const seen = await reading;
      expect(seen.map((e) => e.data.n)).to.deep.equal([0, 1, 2]);
      expect(Date.now() - began).to.be.below(1000);
    } finally {
      await local.query('rollback');
      await local.end();
      await foreign.release();
    }
  });

  it('refuses an append that is not the first write of its transaction: readers could not know to wait for it', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('begin');
      await client.query('create temporary table scratch (n int) on commit drop; insert into scratch values (1)');
      const refused = await client
        .query(`select * from tally_append_one('late-${randomUUID()}', -2, $1::uuid, 'Late', '{}'::jsonb, '{}'::jsonb)`, [randomUUID()])
        .then(() => undefined, (error: { code?: string }) => error.code);
      expect(refused).to.equal('TA002');
      await client.query('rollback');
      // Appends first, then anything else: fine.
      await client.query('begin');
      await client.query(`select * from tally_append_one('first-${randomUUID()}', -2, $1::uuid, 'First', '{}'::jsonb, '{}'::jsonb)`, [randomUUID()]);
      await client.query(`select * from tally_append_one('second-${randomUUID()}', -2, $1::uuid, 'Second', '{}'::jsonb, '{}'::jsonb)`, [randomUUID()]);
      await client.query('commit');
    } finally {
      await client.end();
    }
  });

  it('counts after a position only what a reader may see: nothing past an append still open', async () => {
    const { store } = underTest;
    const prefix = `count-${randomUUID().slice(0, 8)}`;
    const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
    const open = new pg.Client({ connectionString: database.url });
    await open.connect();
    try {
      await open.query('begin');
      await open.query(`select * from tally_append_one($1, -2, $2::uuid, 'Open', '{}'::jsonb, '{}'::jsonb)`, [`${prefix}-open`, randomUUID()]);
      // Committed, but after a position that may still appear: readers do not see it yet, nor is it counted.
      await store.appendToStream(`${prefix}-later`, [{ type: 'Later', data: {} }], { expectedRevision: 'no_stream' });
      const read: string[] = [];
      for await (const event of store.readAll({ fromPosition: start.position })) read.push(event.type);
      expect(read).to.deep.equal([]);
      expect(await store.countAfter(start.position, 100)).to.deep.equal({ events: 0, oldestRecordedAt: undefined });
      await open.query('commit');
      expect((await store.countAfter(start.position, 100)).events).to.equal(2);
    } finally {
      await open.query('rollback').catch(() => undefined);
      await open.end();
    }
  });

  it('appends many streams in one transaction, in the order given', async () => {
    const { store } = underTest;
    const prefix = `batch-${randomUUID().slice(0, 8)}`;
    const results = await store.appendToStreams(Array.from({ length: 20 }, (_, n) => ({ streamId: `${prefix}-${n}`, events: [{ type: 'Numbered', data: { n } }], expectedRevision: 'no_stream' as const })));
    const positions = results.map((result) => (result.ok ? result.position : ''));
    expect([...positions].sort()).to.deep.equal(positions);
    // One transaction: one transaction id in every position.
    expect(new Set(positions.map((position) => position.split(':')[0])).size).to.equal(1);
  });

  it('passes over events its filter does not want once, and says how far it has read', async () => {
    const { store } = underTest;
    const prefix = `pass-${randomUUID().slice(0, 8)}`;
    const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [`${prefix}-wanted`] } });
    const iterator = subscription[Symbol.asyncIterator]();
    let last = start;
    for (let n = 0; n < 2500; n += 100) {
      last = await store.appendToStream(`${prefix}-other-${n}`, Array.from({ length: 100 }, () => ({ type: 'Other', data: {} })), { expectedRevision: 'no_stream' });
    }
    const wanted = await store.appendToStream(`${prefix}-wanted`, [{ type: 'Wanted', data: {} }], { expectedRevision: 'no_stream' });
    const first = await iterator.next();
    expect(first.value?.position).to.equal(wanted.position);
    expect(subscription.position()).to.equal(wanted.position);
    const more = await store.appendToStream(`${prefix}-other-last`, [{ type: 'Other', data: {} }], { expectedRevision: 'no_stream' });
    for (let i = 0; i < 200 && subscription.position() !== more.position; i++) {
      // The subscription reads in the background only while asked for the next event.
      const pending = iterator.next();
      await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
    expect(subscription.position()).to.equal(more.position);
    expect(last.position < wanted.position).to.equal(true);
    await subscription.close();
  });

  it('keeps going through a database connection failure without losing events', async () => {
    const { store, pool } = underTest;
    const prefix = `outage-${randomUUID().slice(0, 8)}`;
    const start = await store.appendToStream(`${prefix}-start`, [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({ fromPosition: start.position, filter: { streamPrefixes: [`${prefix}-x`] } });
    const reading = readUntil(subscription, (seen) => seen.length >= 2);
    await store.appendToStream(`${prefix}-x1`, [{ type: 'A', data: {} }], { expectedRevision: 'no_stream' });
    // Kill every other connection of this database: the pool's and the LISTEN one.
    await pool.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    await store.appendToStream(`${prefix}-x2`, [{ type: 'B', data: {} }], { expectedRevision: 'no_stream' }).catch(async () => {
      // The pool may hand out a killed connection once; the retry gets a fresh one.
      await store.appendToStream(`${prefix}-x2`, [{ type: 'B', data: {} }], { expectedRevision: 'no_stream' });
    });
    expect((await reading).map((e) => e.type)).to.deep.equal(['A', 'B']);
  });
});
