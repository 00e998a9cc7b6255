import { expect } from 'chai';
import pg from 'pg';
import { READ_MODEL_MIGRATIONS_TABLE } from '../../projections/migrations.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/**
 * Campaigns show holdDays and refundDays. The campaigns read model never kept
 * holdDays, so an upgrade projects its campaigns again from the log: after
 * it, a campaign projected before shows the holdDays it was created with, its
 * rules, and no limit on refunds if it was created before refund windows.
 */
describe('campaigns projected before they showed holdDays and refundDays', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('are projected again from the log on upgrade, with their days and rules', async () => {
    const first = await runTally(database.url);
    let campaignId: string;
    try {
      const created = await first.commands.post('/campaigns', { name: 'Held', holdDays: 3, refundDays: 30 });
      expect(created.status).to.equal(201);
      campaignId = created.body.id;
      await first.commands.post(`/campaigns/${campaignId}/rules`, { conditions: { merchantId: 'M1' }, reward: { type: 'fixed', amount: 5 } });
      const shown = await until('the rule projected', async () => (await first.queries.get(`/campaigns/${campaignId}`)).body, { ok: (body) => body?.rules?.length === 1 });
      expect(shown).to.include({ holdDays: 3, refundDays: 30 });
    } finally {
      await first.stop();
    }
    // As the database stood before the migration: without the columns, and without the migration's record.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('alter table rm_campaigns drop column hold_days, drop column refund_days');
      await client.query(`delete from ${READ_MODEL_MIGRATIONS_TABLE} where name = '010_campaign_hold_and_refund_days'`);
    } finally {
      await client.end();
    }
    const upgraded = await runTally(database.url);
    try {
      const shown = await until('the campaign projected again', async () => (await upgraded.queries.get(`/campaigns/${campaignId}`)), { ok: (answer) => answer.status === 200 && answer.body.rules.length === 1 });
      expect(shown.body).to.include({ name: 'Held', holdDays: 3, refundDays: 30, status: 'active' });
      expect((await upgraded.queries.get('/campaigns')).body.campaigns.map((campaign: { id: string }) => campaign.id)).to.deep.equal([campaignId]);
    } finally {
      await upgraded.stop();
    }
  });
});
