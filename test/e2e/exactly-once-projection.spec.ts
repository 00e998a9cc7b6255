import { expect } from 'chai';
import type { Knex } from 'knex';
import { createCheckpoints, checkpointMigrations } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../../projections/migrations.ts';
import { startProjector } from '../../projections/projector.ts';
import { allProjections } from '../../projections/read-models/all-projections.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/** Each read model and its key, to compare them row by row. */
const READ_MODELS: Record<string, readonly string[]> = {
  rm_campaigns: ['id'], rm_rules: ['id'], rm_tracked_events: ['id'], rm_earnings: ['id'], rm_messages: ['id'], rm_message_attempts: ['message_id', 'attempt'],
  rm_earning_history: ['earning_id', 'revision'], rm_campaign_matches: ['campaign_id'], rm_campaign_earnings: ['campaign_id'],
};

const contents = async (knex: Knex) =>
  Object.fromEntries(await Promise.all(Object.entries(READ_MODELS).map(async ([table, key]) => [table, await knex(table).orderBy([...key])] as const)));

/**
 * A COMMIT that succeeds on the server but whose reply never reaches the
 * projector: it retries the batch, which must then apply nothing again.
 */
describe('projections under a lost COMMIT reply', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let fresh: TestDatabase;
  let proxy: TcpProxy;

  before(async () => {
    database = await createTestDatabase();
    fresh = await createTestDatabase();
    const { hostname, port } = new URL(database.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
  });
  after(async () => {
    await proxy?.close();
    await database?.drop();
    await fresh?.drop();
  });

  it('apply each event exactly once: the read models equal a fresh build from the log', async () => {
    const app = await runTally(proxy.url(database.url));
    const knex = createKnex({ url: database.url, max: 2 });
    try {
      // With a generated description and a message for each earning, so that those read models are compared too.
      const campaign = await app.commands.post('/campaigns', { name: 'Cut', generateDescription: true, notifications: { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}' } });
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
      const ids: string[] = [];
      let cuts = 0;
      for (let n = 0; n < 6; n++) {
        // Every other purchase, the reply to the projector's next COMMIT is lost.
        const cut = n % 2 === 0 ? proxy.cutAfterNextCommit().then(() => cuts++) : undefined;
        ids.push((await app.commands.post('/events', { merchantId: 'M-1', customerId: `C-${n}`, amount: 3 })).body.id);
        await cut;
      }
      expect(cuts).to.equal(3);
      for (const id of ids) expect((await app.queries.get(`/events/${id}?wait=10`)).body.status).to.equal('processed');
      await until('every earning is projected', async () => (await app.queries.get(`/earnings?campaignId=${campaign.body.id}`)).body.earnings.length === 6, { intervalMs: 50 });
      // The log must be still before the fresh build is compared with it.
      await until('every message is sent', async () => (await app.queries.get(`/messages?campaignId=${campaign.body.id}&status=sent`)).body.messages.length === 6, { intervalMs: 50 });
      await until('the description is generated', async () => (await app.queries.get(`/campaigns/${campaign.body.id}`)).body.descriptionGeneration?.status === 'generated', { intervalMs: 50 });

      const freshKnex = createKnex({ url: fresh.url, max: 5 });
      try {
        await migrate(freshKnex, 'tally_checkpoint_migrations', checkpointMigrations);
        await migrate(freshKnex, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
        const rebuild = await startProjector({
          store: app.tally.store, knex: freshKnex, checkpoints: createCheckpoints(freshKnex), projections: allProjections, logger: silentLogger, onFatal: () => undefined,
        });
        try {
          const expected = await knex('tally_checkpoints').where('name', 'like', 'projection:%').orderBy('name').select('name', 'position');
          await until(
            'the fresh build reaches the same checkpoints',
            async () => JSON.stringify(await freshKnex('tally_checkpoints').orderBy('name').select('name', 'position')) === JSON.stringify(expected),
            { intervalMs: 50 },
          );
        } finally {
          await rebuild.stop();
        }
        const projected = await contents(knex);
        expect(projected.rm_messages).to.have.length(6);
        expect(projected.rm_tracked_events!.every((row: { matched_rule_ids: string[] }) => row.matched_rule_ids.length === 1)).to.equal(true);
        expect(projected).to.deep.equal(await contents(freshKnex));
      } finally {
        await freshKnex.destroy();
      }
    } finally {
      await knex.destroy();
      await app.stop();
    }
  });
});
