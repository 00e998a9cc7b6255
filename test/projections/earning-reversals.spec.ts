import { expect } from 'chai';
import type { Knex } from 'knex';
import type { EarningGranted } from '../../domain/earning/earning-events.ts';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { eventStoreMigrations } from '../../infrastructure/event-store/postgres/schema.ts';
import { createPostgresEventStore } from '../../infrastructure/event-store/postgres/postgres-event-store.ts';
import { checkpointMigrations, createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex, createPool } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../../projections/migrations.ts';
import type { Projection } from '../../projections/projection.ts';
import { projectionCheckpoint, startProjector } from '../../projections/projector.ts';
import { earningsProjection } from '../../projections/read-models/earnings-projection.ts';
import { createEarningQueries } from '../../read-api/earning-queries.ts';
import { handMadeEarnings } from '../support/hand-made-earnings.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const GRANTED_AT = '2026-03-01T10:00:00.000Z';
const HELD_UNTIL = '2026-03-04T10:00:00.000Z';

const grantOf = (earningId: string, amount: number, { held = true, currency = 'EUR', campaignId = 'c-1' } = {}): EarningGranted['data'] => ({
  earningId, eventId: `t-${earningId}`, campaignId, ruleId: 'r-1', beneficiaryId: 'b-1', amount, currency, grantedAt: GRANTED_AT, approvesAt: held ? HELD_UNTIL : GRANTED_AT,
});

/** The earnings read model fed through the real PostgreSQL event store and projector, from hand-made earning events. */
describe('earnings read model: reversals and history', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let knex: Knex;
  let pool: ReturnType<typeof createPool>;
  let store: EventStore;
  let earnings: ReturnType<typeof handMadeEarnings>;
  let queries: ReturnType<typeof createEarningQueries>;
  /** The batches the earnings projection was given, in order, by the last `project()`. */
  let batches: (readonly RecordedEvent[])[] = [];

  before(async () => {
    database = await createTestDatabase();
    knex = createKnex({ url: database.url, max: 5 });
    await migrate(knex, 'tally_event_store_migrations', eventStoreMigrations);
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
    await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
    pool = createPool({ url: database.url, max: 5 });
    store = createPostgresEventStore({ connectionString: database.url, pool });
    earnings = handMadeEarnings(store);
    queries = createEarningQueries(knex);
  });
  after(async () => {
    await store?.close();
    await pool?.end();
    await knex?.destroy();
    await database?.drop();
  });

  /** Runs the projector until it has applied everything appended so far: what was appended since the last call comes as one catch-up. */
  const project = async (): Promise<void> => {
    batches = [];
    const recording: Projection = { ...earningsProjection, applyBatch: (trx, events) => (batches.push(events), earningsProjection.applyBatch(trx, events)) };
    const checkpoints = createCheckpoints(knex);
    const projector = await startProjector({ store, knex, checkpoints, projections: [recording], logger: silentLogger, onFatal: () => undefined });
    try {
      const head = await store.headPosition();
      await until('the earnings projection reached the head', async () => (await checkpoints.load(projectionCheckpoint(recording))) === head);
    } finally {
      await projector.stop();
    }
  };

  const earning = async (id: string) => {
    const view = await queries.earning(id);
    if (!view) throw new Error(`earning ${id} not projected`);
    return view;
  };

  it('reverses part of an earning, then the rest, each in a batch of its own; the history keeps the stream’s order', async () => {
    const grant = grantOf('partial-then-full', 1000);
    await earnings.grant(grant);
    await project();
    expect(await earning(grant.earningId)).to.include({ status: 'pending', amount: 10, reversed: 0, remaining: 10, reversedAt: null });

    await earnings.reverse(grant, 'refund-1', 250, 750, '2026-03-02T10:00:00.000Z', 'refund refund-1 of 25 of event t');
    await project();
    expect(await earning(grant.earningId)).to.include({ status: 'pending', reversed: 2.5, remaining: 7.5, reversedAt: null });

    await earnings.approve(grant.earningId, '2026-03-04T10:00:01.000Z');
    await project();
    expect(await earning(grant.earningId)).to.include({ status: 'approved', approvedAt: '2026-03-04T10:00:01.000Z', reversed: 2.5, remaining: 7.5 });

    await earnings.reverse(grant, 'refund-2', 750, 0, '2026-03-05T10:00:00.000Z');
    await project();
    const reversed = await earning(grant.earningId);
    expect(reversed).to.include({ status: 'reversed', amount: 10, reversed: 10, remaining: 0, approvedAt: '2026-03-04T10:00:01.000Z', reversedAt: '2026-03-05T10:00:00.000Z' });
    expect(reversed.history).to.deep.equal([
      { revision: '0', kind: 'granted', amount: 10, at: GRANTED_AT },
      { revision: '1', kind: 'reversed', amount: 2.5, remaining: 7.5, reason: 'refund refund-1 of 25 of event t', refundEventId: 'refund-1', at: '2026-03-02T10:00:00.000Z' },
      { revision: '2', kind: 'approved', at: '2026-03-04T10:00:01.000Z' },
      { revision: '3', kind: 'reversed', amount: 7.5, remaining: 0, reason: 'refund refund-2', refundEventId: 'refund-2', at: '2026-03-05T10:00:00.000Z' },
    ]);
  });

  it('projects reversals of an earning granted in the same batch into the row it inserts', async () => {
    const full = grantOf('same-batch-full', 999);
    const part = grantOf('same-batch-part', 500, { held: false, currency: 'JPY' });
    await earnings.grant(full);
    await earnings.grant(part);
    await earnings.reverse(full, 'refund-a', 333, 666, '2026-03-02T10:00:00.000Z');
    await earnings.reverse(part, 'refund-a', 120, 380, '2026-03-02T10:00:00.000Z');
    await earnings.reverse(full, 'refund-b', 666, 0, '2026-03-03T10:00:00.000Z');
    await project();
    // One batch, or this test would show nothing about the same batch.
    expect(batches.map((batch) => batch.length)).to.deep.equal([5]);

    expect(await earning(full.earningId)).to.include({ status: 'reversed', amount: 9.99, reversed: 9.99, remaining: 0, approvedAt: null, reversedAt: '2026-03-03T10:00:00.000Z' });
    const kept = await earning(part.earningId);
    // No hold: approved when granted, and a reversal in part leaves it approved.
    expect(kept).to.include({ status: 'approved', currency: 'JPY', amount: 500, reversed: 120, remaining: 380, approvedAt: GRANTED_AT, reversedAt: null });
    expect(kept.history.map((entry) => [entry.revision, entry.kind])).to.deep.equal([['0', 'granted'], ['1', 'reversed']]);
    expect((await earning(full.earningId)).history.map((entry) => entry.kind)).to.deep.equal(['granted', 'reversed', 'reversed']);
  });

  it('approves and reverses in one batch an earning granted in an earlier one, with one statement for the batch', async () => {
    const grant = grantOf('earlier', 1000, { campaignId: 'c-2' });
    await earnings.grant(grant);
    await project();
    await earnings.approve(grant.earningId, '2026-03-04T10:00:01.000Z');
    await earnings.reverse(grant, 'refund-c', 400, 600, '2026-03-05T10:00:00.000Z');
    const statements: string[] = [];
    const count = ({ sql }: { sql: string }) => void (/rm_earning/.test(sql) && statements.push(sql));
    knex.on('query', count);
    try {
      await project();
    } finally {
      knex.off('query', count);
    }
    expect(batches.map((batch) => batch.length)).to.deep.equal([2]);
    // The update of the earning, its history and its campaign's totals: one round trip.
    expect(statements).to.have.length(1);
    expect(await earning(grant.earningId)).to.include({ status: 'approved', reversed: 4, remaining: 6 });
    expect(await knex('rm_campaign_earnings').where({ campaign_id: 'c-2' }).first()).to.deep.include({ earnings: '1', granted: '10.0000', reversed: '4.0000' });
  });

  it('adds up each campaign’s earnings, granted and reversed across batches', async () => {
    const totals = async () =>
      (await knex('rm_campaign_earnings').whereIn('campaign_id', ['c-3', 'c-4']).orderBy('campaign_id')).map((row) => [row.campaign_id, Number(row.earnings), Number(row.granted), Number(row.reversed)]);
    const one = grantOf('c3-one', 150, { campaignId: 'c-3' });
    const two = grantOf('c3-two', 275, { campaignId: 'c-3' });
    await earnings.grant(one);
    await earnings.grant(two);
    await earnings.grant(grantOf('c4-one', 1, { campaignId: 'c-4' }));
    await project();
    expect(await totals()).to.deep.equal([['c-3', 2, 4.25, 0], ['c-4', 1, 0.01, 0]]);
    await earnings.reverse(one, 'refund-d', 150, 0, '2026-03-05T10:00:00.000Z');
    await earnings.reverse(two, 'refund-d', 25, 250, '2026-03-05T10:00:00.000Z');
    await project();
    expect(await totals()).to.deep.equal([['c-3', 2, 4.25, 1.75], ['c-4', 1, 0.01, 0]]);
  });
});
