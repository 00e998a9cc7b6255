import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { allProjections } from '../../projections/read-models/all-projections.ts';
import { rebuildProjection, type RebuildProgress } from '../../projections/rebuild.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const root = path.resolve(import.meta.dirname, '../..');
const projection = (name: string) => allProjections.find((each) => each.name === name)!;

/**
 * DESIGN §6: a read model rebuilt from position zero into fresh tables, then
 * swapped in, while Tally keeps serving and projecting: what a bug or a hand
 * wrote into the live tables is gone, nothing is applied twice or lost, and
 * the live projector carries on from where the rebuild left the checkpoint.
 */
describe('rebuilding read models, blue/green', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let knex: Knex;
  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
    knex = createKnex({ url: database.url, max: 4 });
  });
  after(async () => {
    await knex?.destroy();
    await app?.stop();
    await database?.drop();
  });

  const earningRows = () => knex('rm_earnings').orderBy('id').select('id', 'amount', 'reversed', 'status');
  const grantsInLog = async () => {
    let count = 0;
    for await (const event of app.tally.store.readAll()) if (event.type === 'EarningGranted') count++;
    return count;
  };

  it('builds the earnings and campaigns afresh under live traffic, swaps them in, and keeps projecting after', async () => {
    const campaign = await app.commands.post('/campaigns', { name: 'Rebuilt' });
    await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { type: 'purchase' }, reward: { type: 'percentage', rate: 0.1, of: 'amount' } });
    for (let n = 0; n < 40; n++) await app.commands.post('/events', { id: `before-${n}`, type: 'purchase', customerId: `C-${n % 5}`, amount: 10 + n });
    await app.commands.post('/events', { id: 'refund-before-3', type: 'refund', refundOf: 'before-3', amount: 6.5 });
    await until('40 earnings projected, one reversed', () => earningRows(), { ok: (rows) => rows.length === 40 && rows.some((row) => Number(row.reversed) > 0) });
    const truth = await earningRows();

    // What a bug might leave: rows gone, a figure wrong, a campaign renamed.
    await knex('rm_earnings').whereIn('id', truth.slice(0, 5).map((row) => row.id)).delete();
    await knex('rm_earnings').where({ id: truth[10]!.id }).update({ amount: 999 });
    await knex('rm_campaigns').where({ id: campaign.body.id }).update({ name: 'Wrong' });

    // Traffic goes on during the rebuild.
    let writing = true;
    const traffic = (async () => {
      for (let n = 0; writing; n++) await app.commands.post('/events', { id: `during-${n}`, type: 'purchase', customerId: 'C-9', amount: 20 });
    })();
    const phases: RebuildProgress['phase'][] = [];
    try {
      for (const name of ['earnings', 'campaigns']) {
        await rebuildProjection({ knex, databaseUrl: database.url, store: app.tally.store, projection: projection(name), pageSize: 25, onProgress: ({ phase }) => phases.push(phase) });
      }
    } finally {
      writing = false;
      await traffic;
    }
    expect(phases).to.include.members(['building', 'swapping', 'done']);
    await app.commands.post('/events', { id: 'after', type: 'purchase', customerId: 'C-1', amount: 30 });
    const granted = await until('every grant projected once', async () => [await grantsInLog(), await earningRows()] as const, { ok: ([count, rows]) => rows.length === count && rows.some((row) => row.id) && count > 41 });
    const rows = granted[1];
    expect(new Set(rows.map((row) => row.id)).size).to.equal(rows.length);
    // The rows the log makes, the ones from before the rebuild as they were before the damage.
    expect(rows.filter((row) => truth.some((before) => before.id === row.id))).to.deep.equal(truth);
    expect((await app.queries.get(`/campaigns/${campaign.body.id}`)).body.name).to.equal('Rebuilt');
    expect((await app.queries.get('/events/after?wait=5')).body.status).to.equal('processed');
    expect(await until('the earning after the rebuild projected', async () => (await app.queries.get('/earnings?beneficiaryId=C-1&limit=1000')).body.earnings.length, { ok: (count) => count === 9 })).to.equal(9);
    // The tables that add up what other rows hold agree with those rows: nothing was counted twice.
    const totals = await knex('rm_campaign_earnings').where({ campaign_id: campaign.body.id }).first();
    const summed = await knex('rm_earnings').where({ campaign_id: campaign.body.id }).select(knex.raw('count(*)::int as n, sum(amount) as granted, sum(reversed) as reversed')).first();
    expect([Number(totals.earnings), Number(totals.granted), Number(totals.reversed)]).to.deep.equal([summed.n, Number(summed.granted), Number(summed.reversed)]);
    // Nothing of the rebuild is left behind.
    expect((await knex.raw("select count(*)::int as n from information_schema.schemata where schema_name like 'tally_rebuild_%'")).rows[0].n).to.equal(0);
  });

  it('runs one rebuild at a time, and waits out a reader that holds a table, keeping what it built', async () => {
    const first = rebuildProjection({ knex, databaseUrl: database.url, store: app.tally.store, projection: projection('campaigns'), pageSize: 1 });
    const second = rebuildProjection({ knex, databaseUrl: database.url, store: app.tally.store, projection: projection('campaigns') });
    const [one, other] = await Promise.allSettled([first, second]);
    expect([one.status, other.status].sort()).to.deep.equal(['fulfilled', 'rejected']);
    expect(String((one.status === 'rejected' ? one : other as PromiseRejectedResult).reason)).to.match(/another rebuild is running/);

    // A reader holds rm_campaigns for a second and a half: the swap gives up after 200 ms, and tries again.
    const phases: string[] = [];
    const reader = knex.transaction(async (trx) => {
      await trx.raw('lock table rm_campaigns in access share mode');
      await new Promise((resolve) => setTimeout(resolve, 1500));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await rebuildProjection({ knex, databaseUrl: database.url, store: app.tally.store, projection: projection('campaigns'), swapLockTimeoutMs: 200, onProgress: ({ phase }) => phases.push(phase) });
    await reader;
    expect(phases.filter((phase) => phase === 'swapping').length).to.be.above(1);
    expect(phases.at(-1)).to.equal('done');
    expect((await app.queries.get('/campaigns')).body.campaigns.map((campaign: { name: string }) => campaign.name)).to.include('Rebuilt');
  });

  it('runs from the command line, with a progress bar, and refuses a read model it does not know', async () => {
    const run = (...args: string[]) => new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn('npx', ['tsx', 'bin/tally.ts', 'rebuild', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr, stdout }));
    });
    const done = await run('messages', 'tracked-events');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout + done.stderr).to.match(/tracked-events\s+\[.*\] 100%/);
    const refused = await run('nonsense');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/unknown: nonsense/);
    // Still answering, from the swapped-in tables.
    expect((await app.queries.get('/events/after')).body.status).to.equal('processed');
  });
});
