import { expect } from 'chai';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import type { EarningEvent } from '../../domain/earning/earning-events.ts';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../../projections/migrations.ts';
import { earningsProjection } from '../../projections/read-models/earnings-projection.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Earnings projected before holds existed were approved when granted: the migration says so in the read model. */
describe('earnings read model: status and approval', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('turns earnings projected as granted into approved earnings, approved when granted', async () => {
    const knex = createKnex({ url: database.url, max: 2 });
    try {
      const before = readModelMigrations.findIndex((migration) => migration.name === '005_earning_approval');
      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations.slice(0, before));
      const grantedAt = new Date('2026-03-01T10:00:00.000Z');
      await knex('rm_earnings').insert({ id: 'e1', event_id: 't1', campaign_id: 'c1', rule_id: 'r1', beneficiary_id: 'b1', amount: 5, currency: 'EUR', status: 'granted', granted_at: grantedAt });
      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
      const row = await knex('rm_earnings').where({ id: 'e1' }).first();
      expect(row).to.include({ status: 'approved' });
      expect([row.approves_at, row.approved_at]).to.deep.equal([grantedAt, grantedAt]);
    } finally {
      await knex.destroy();
    }
  });

  it('projects a grant and its approval in one batch (a rebuild) as it does in two', async () => {
    const knex = createKnex({ url: database.url, max: 2 });
    let sequence = 0;
    const recorded = (event: EarningEvent): RecordedEvent => ({
      id: `id-${++sequence}`, type: event.type, data: event.data, metadata: {}, streamId: `earning-${event.data.earningId}`,
      revision: event.type === 'EarningGranted' ? 0n : 1n, position: String(sequence).padStart(20, '0'), recordedAt: new Date(),
    });
    const granted = (earningId: string): EarningEvent => ({
      type: 'EarningGranted',
      data: { earningId, eventId: 't', campaignId: 'c', ruleId: 'r', beneficiaryId: 'b2', amount: 525, currency: 'EUR', grantedAt: '2026-03-01T10:00:00.000Z', approvesAt: '2026-03-04T10:00:00.000Z' },
    });
    const approved = (earningId: string): EarningEvent => ({ type: 'EarningApproved', data: { earningId, approvedAt: '2026-03-04T10:00:01.000Z' } });
    try {
      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
      await knex.transaction((trx) => earningsProjection.applyBatch(trx, [recorded(granted('one')), recorded(approved('one'))]));
      await knex.transaction((trx) => earningsProjection.applyBatch(trx, [recorded(granted('two')), recorded(granted('still'))]));
      await knex.transaction((trx) => earningsProjection.applyBatch(trx, [recorded(approved('two'))]));
      const rows = await knex('rm_earnings').where({ beneficiary_id: 'b2' }).orderBy('id').select('id', 'status', 'amount', 'approves_at', 'approved_at');
      expect(rows.map((row) => [row.id, row.status, Number(row.amount), row.approves_at.toISOString(), row.approved_at?.toISOString() ?? null])).to.deep.equal([
        ['one', 'approved', 5.25, '2026-03-04T10:00:00.000Z', '2026-03-04T10:00:01.000Z'],
        ['still', 'pending', 5.25, '2026-03-04T10:00:00.000Z', null],
        ['two', 'approved', 5.25, '2026-03-04T10:00:00.000Z', '2026-03-04T10:00:01.000Z'],
      ]);
    } finally {
      await knex.destroy();
    }
  });
});
