import { expect } from 'chai';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../../projections/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Read models projected before reversals existed get, from their own rows, the history and totals the projections would have written. */
describe('read model migrations for refunds', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('fills earning history and campaign totals from the rows projected before them', async () => {
    const knex = createKnex({ url: database.url, max: 2 });
    try {
      const before = readModelMigrations.findIndex((migration) => migration.name === '006_earning_reversals');
      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations.slice(0, before));
      const at = (day: number) => new Date(Date.UTC(2026, 2, day, 10));
      const earning = (id: string, campaignId: string, amount: number, status: string, approvesAt: Date, approvedAt: Date | null) => ({
        id, event_id: `t-${id}`, campaign_id: campaignId, rule_id: 'r', beneficiary_id: 'b', amount, currency: 'EUR', status, granted_at: at(1), approves_at: approvesAt, approved_at: approvedAt,
      });
      await knex('rm_earnings').insert([
        earning('held-approved', 'c-1', 5, 'approved', at(4), at(5)),
        earning('held-pending', 'c-1', 2.5, 'pending', at(4), null),
        earning('at-once', 'c-2', 1, 'approved', at(1), at(1)),
      ]);
      const tracked = (id: string, campaignIds: string[]) => ({
        id, occurred_at: at(1), registered_at: at(1), document: '{}', status: campaignIds.length > 0 ? 'processed' : 'skipped', position: '0',
        matched_rule_ids: campaignIds.map(() => 'r'), earnings: JSON.stringify(campaignIds.map((campaignId) => ({ id: `e-${id}-${campaignId}`, campaignId }))),
      });
      await knex('rm_tracked_events').insert([tracked('t-1', ['c-1', 'c-2']), tracked('t-2', ['c-1']), tracked('t-3', [])]);

      await migrate(knex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);

      const history = await knex('rm_earning_history').orderBy(['earning_id', 'revision']).select('earning_id', 'revision', 'kind', 'amount', 'at');
      expect(history.map((row) => [row.earning_id, Number(row.revision), row.kind, row.amount === null ? null : Number(row.amount), row.at.toISOString()])).to.deep.equal([
        ['at-once', 0, 'granted', 1, at(1).toISOString()],
        ['held-approved', 0, 'granted', 5, at(1).toISOString()],
        ['held-approved', 1, 'approved', null, at(5).toISOString()],
        ['held-pending', 0, 'granted', 2.5, at(1).toISOString()],
      ]);
      expect((await knex('rm_earnings').orderBy('id')).map((row) => Number(row.reversed))).to.deep.equal([0, 0, 0]);
      const totals = await knex('rm_campaign_earnings').orderBy('campaign_id');
      expect(totals.map((row) => [row.campaign_id, Number(row.earnings), Number(row.granted), Number(row.reversed)])).to.deep.equal([['c-1', 2, 7.5, 0], ['c-2', 1, 1, 0]]);
      const matches = await knex('rm_campaign_matches').orderBy('campaign_id');
      expect(matches.map((row) => [row.campaign_id, Number(row.events_matched)])).to.deep.equal([['c-1', 2], ['c-2', 1]]);
    } finally {
      await knex.destroy();
    }
  });
});
