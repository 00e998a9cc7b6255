import { expect } from 'chai';
import type { Knex } from 'knex';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { eventStoreMigrations } from '../../infrastructure/event-store/postgres/schema.ts';
import { createPostgresEventStore } from '../../infrastructure/event-store/postgres/postgres-event-store.ts';
import { checkpointMigrations, createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex, createPool } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createStatusBoard, readSubscriberStatus, type SubscriberStatus } from '../../infrastructure/postgres/subscriber-status.ts';
import { oneByOne, type Projection } from '../../projections/projection.ts';
import { projectionCheckpoint, startProjector } from '../../projections/projector.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

describe('projector', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let knex: Knex;
  let pool: ReturnType<typeof createPool>;
  let store: EventStore;

  before(async () => {
    database = await createTestDatabase();
    knex = createKnex({ url: database.url, max: 5 });
    await migrate(knex, 'tally_event_store_migrations', eventStoreMigrations);
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
    await knex.schema.createTable('counted', (t) => {
      t.text('id').primary();
    });
    pool = createPool({ url: database.url, max: 5 });
    store = createPostgresEventStore({ connectionString: database.url, pool });
  });
  after(async () => {
    await store?.close();
    await pool?.end();
    await knex?.destroy();
    await database?.drop();
  });

  it('applies a failed batch again whole: no row twice, none lost, checkpoint with the rows', async () => {
    let failuresLeft = 2;
    const projection: Projection = {
      name: 'counted',
      tables: ['counted'],
      eventTypes: ['Counted'],
      applyBatch: oneByOne(async (trx, event) => {
        await trx('counted').insert({ id: event.id });
        // Fails after writing part of the batch, as a crash or an outage would.
        if (event.data.n === 7 && failuresLeft > 0) {
          failuresLeft--;
          throw new Error('database went away');
        }
      }),
    };
    const checkpoints = createCheckpoints(knex);
    for (let n = 0; n < 10; n++) await store.appendToStream(`counted-${n}`, [{ type: 'Counted', data: { n } }], { expectedRevision: 'no_stream' });
    const projector = await startProjector({ store, knex, checkpoints, projections: [projection], logger: silentLogger, onFatal: () => undefined });
    try {
      for (let i = 0; i < 200; i++) {
        const { n } = (await knex('counted').count({ n: '*' }))[0] as { n: string };
        if (Number(n) === 10) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await projector.stop();
    }
    expect(failuresLeft).to.equal(0);
    const rows = await knex('counted').select('id');
    expect(rows).to.have.length(10);
    const last: string[] = [];
    for await (const event of store.readAll()) last.push(event.position);
    expect(await checkpoints.load(projectionCheckpoint(projection))).to.equal(last[last.length - 1]);
  });

  it('shows a projection that throws a TypeError as failing, at the event that throws, and recovers without losing it', async () => {
    // A bug on odd data, as `undefined.x` would be: a TypeError, which p-retry gives up on at once.
    let broken = true;
    const projection: Projection = {
      name: 'odd',
      tables: ['odd_rows'],
      eventTypes: ['Odd'],
      // Set-based, as busy read models are: the projector cannot tell from the batch which event failed.
      async applyBatch(trx, events) {
        if (broken && events.some((event) => event.data.odd === true)) throw new TypeError("Cannot read properties of undefined (reading 'x')");
        await trx('counted').insert(events.map((event) => ({ id: event.id })));
      },
    };
    const checkpoints = createCheckpoints(knex);
    const appended: string[] = [];
    for (let n = 0; n < 6; n++) {
      const { position } = await store.appendToStream(`odd-${n}`, [{ type: 'Odd', data: { n, odd: n === 3 } }], { expectedRevision: 'no_stream' });
      appended.push(position);
    }
    const board = createStatusBoard({ knex, logger: silentLogger });
    const fatal: unknown[] = [];
    const projector = await startProjector({ store, knex, checkpoints, projections: [projection], logger: silentLogger, board, onFatal: (error) => fatal.push(error) });
    const status = async (): Promise<SubscriberStatus | undefined> =>
      (await readSubscriberStatus(knex, 10_000)).find((row) => row.subscriber === projectionCheckpoint(projection));
    try {
      const failing = await until('it shows failing at the odd event', status, { ok: (row) => row?.state === 'failing' && row.stuckAt === appended[3], timeoutMs: 10_000, detail: JSON.stringify });
      expect(failing?.error).to.equal("Cannot read properties of undefined (reading 'x')");
      expect(fatal).to.deep.equal([]);
      broken = false;
      await until('it runs again, past the odd event', status, { ok: (row) => row?.state === 'running' && row.position === appended[5], timeoutMs: 10_000, detail: JSON.stringify });
    } finally {
      await projector.stop();
      await board.close();
    }
    expect(fatal).to.deep.equal([]);
    const ids = [];
    for await (const event of store.readAll()) if (event.type === 'Odd') ids.push(event.id);
    expect(await knex('counted').whereIn('id', ids).count({ n: '*' }).then((rows) => Number(rows[0]!.n))).to.equal(6);
    expect(await checkpoints.load(projectionCheckpoint(projection))).to.equal(appended[5]);
  });

  it('lets two projectors run the same projection at once without applying anything twice', async () => {
    const projection: Projection = {
      name: 'doubled',
      tables: ['doubled'],
      eventTypes: ['Doubled'],
      applyBatch: oneByOne(async (trx, event) => {
        await trx('counted').insert({ id: event.id });
      }),
    };
    const checkpoints = createCheckpoints(knex);
    const events = 200;
    const { logger, entries } = capturedLogger();
    const projectors = await Promise.all(
      [1, 2].map(() => startProjector({ store, knex, checkpoints, projections: [projection], logger, onFatal: () => undefined, batchSize: 7 })),
    );
    try {
      for (let n = 0; n < events; n++) await store.appendToStream(`doubled-${n}`, [{ type: 'Doubled', data: { n } }], { expectedRevision: 'no_stream' });
      const head = await store.headPosition();
      for (let i = 0; i < 400 && (await checkpoints.load(projectionCheckpoint(projection))) !== head; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await Promise.all(projectors.map((projector) => projector.stop()));
    }
    const rows = await knex('counted').whereIn('id', knex('tally_events').where({ type: 'Doubled' }).select(knex.raw('event_id::text')));
    expect(rows).to.have.length(events);
    // Neither wedged on the other's rows: a batch that meets a newer checkpoint applies only what lies after it.
    expect(entries.map((entry) => entry.err?.message ?? entry.msg)).to.deep.equal([]);
  });

  it('keeps a projection that fails apart: the others keep up, it shows failing, then catches up', async () => {
    await knex.schema.createTable('healthy_rows', (t) => t.text('id').primary());
    await knex.schema.createTable('fragile_rows', (t) => t.text('id').primary());
    let broken = true;
    const healthy: Projection = {
      name: 'healthy',
      tables: ['healthy_rows'],
      eventTypes: ['Shared'],
      applyBatch: async (trx, events) => void (await trx('healthy_rows').insert(events.map((event) => ({ id: event.id })))),
    };
    const fragile: Projection = {
      name: 'fragile',
      tables: ['fragile_rows'],
      eventTypes: ['Shared'],
      async applyBatch(trx, events) {
        if (broken && events.some((event) => event.data.bad === true)) throw new TypeError('fragile cannot read this');
        await trx('fragile_rows').insert(events.map((event) => ({ id: event.id })));
      },
    };
    const checkpoints = createCheckpoints(knex);
    const board = createStatusBoard({ knex, logger: silentLogger });
    const projector = await startProjector({ store, knex, checkpoints, projections: [healthy, fragile], logger: silentLogger, board, onFatal: () => undefined });
    const count = async (table: string) => Number((await knex(table).count({ n: '*' }))[0]!.n);
    try {
      const bad = await store.appendToStream('shared-bad', [{ type: 'Shared', data: { bad: true } }], { expectedRevision: 'no_stream' });
      for (let n = 0; n < 20; n++) await store.appendToStream(`shared-${n}`, [{ type: 'Shared', data: { n } }], { expectedRevision: 'no_stream' });
      await until('the healthy projection has every event', async () => (await count('healthy_rows')) === 21, { timeoutMs: 10_000 });
      await until('the fragile one shows failing at the bad event', async () => {
        const row = (await readSubscriberStatus(knex, 10_000)).find((status) => status.subscriber === 'projection:fragile');
        return row?.state === 'failing' && row.stuckAt === bad.position;
      }, { timeoutMs: 10_000 });
      expect(await count('fragile_rows')).to.equal(0);
      broken = false;
      await until('the fragile one has caught up', async () => (await count('fragile_rows')) === 21, { timeoutMs: 10_000 });
    } finally {
      await projector.stop();
      await board.close();
    }
    const head = await store.headPosition();
    expect(await checkpoints.load(projectionCheckpoint(healthy))).to.equal(head);
    expect(await checkpoints.load(projectionCheckpoint(fragile))).to.equal(head);
  });
});
