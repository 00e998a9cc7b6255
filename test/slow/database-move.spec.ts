import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { LIFECYCLE_MESSAGES_FROM } from '../../commands/reactors/message-requests.ts';
import { startEmbeddedPostgres, type RunningPostgres } from '../../infrastructure/postgres/embedded-postgres.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { dumpAndRestore, startSystemCluster, systemPostgresBin, type SystemCluster } from '../support/system-postgres.ts';

const purchase = (n: number) => ({ type: 'purchase', merchantId: 'M-1', customerId: `C-${n}`, amount: 10 });

/** Tally on `url`: what it answers, and where each subscriber's checkpoint stands. */
const decided = async (app: Awaited<ReturnType<typeof runTally>>, id: string) => {
  const reply = await app.queries.get(`/events/${id}?wait=10`);
  return reply.body as { status: string; earnings: unknown[] };
};

const checkpointsOf = async (url: string): Promise<Record<string, string>> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; position: string }>('select name, position from tally_checkpoints');
    return Object.fromEntries(rows.map((row) => [row.name, row.position]));
  } finally {
    await client.end();
  }
};

/**
 * An operator moves the whole database to another PostgreSQL server with
 * pg_dump/pg_restore. Transaction ids belong to a server: on the new one they
 * may be far below the old ones. Every subscriber must still deliver what is
 * appended after the move.
 */
describe('moving the database to another server', function () {
  this.timeout(180_000);
  const bin = systemPostgresBin();
  let target: RunningPostgres | undefined;
  let targetDir: string | undefined;
  let source: SystemCluster | undefined;

  before(function () {
    if (!bin) {
      console.log('    skipped: needs the machine PostgreSQL programs (pg_dump, pg_restore, pg_resetwal) under /usr/lib/postgresql');
      this.skip();
    }
  });
  afterEach(async () => {
    await target?.stop();
    if (targetDir) await rm(targetDir, { recursive: true, force: true });
    await source?.stop();
    target = targetDir = source = undefined;
  });

  const move = async (xidEpoch: number | undefined) => {
    source = await startSystemCluster(bin!, { xidEpoch });
    // Before the move: a campaign, a rule, three purchases decided and projected.
    const before = await runTally(source.url);
    const campaign = await before.commands.post('/campaigns', { name: 'Moving sale' });
    await before.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 1 } });
    const old: string[] = [];
    for (let n = 0; n < 3; n++) old.push((await before.commands.post('/events', purchase(n))).body.id);
    for (const id of old) expect((await decided(before, id)).status).to.equal('processed');
    const oldHead = await before.tally.store.headPosition();
    await before.stop();
    const oldCheckpoints = await checkpointsOf(source.url);

    targetDir = await mkdtemp(path.join(os.tmpdir(), 'tally-move-target-'));
    target = await startEmbeddedPostgres(targetDir, silentLogger);
    await dumpAndRestore(bin!, source.url, target.url);
    await source.stop();
    source = undefined;

    // After the move: new purchases, and a new rule, on the new server.
    const after = await runTally(target.url);
    try {
      const newer = [];
      for (let n = 3; n < 6; n++) newer.push(await after.commands.post('/events', purchase(n)));
      const rule = await after.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-2' }, reward: { type: 'fixed', amount: 2 }, priority: 1 });
      const late = await after.commands.post('/events', { ...purchase(6), merchantId: 'M-2' });

      for (const reply of [...newer, late]) expect(reply.body.position > oldHead!).to.equal(true, `${reply.body.position} sorts after ${oldHead}`);
      // The rule engine decided them, the earnings were granted, and every projection shows them.
      for (const { body } of newer) expect(await decided(after, body.id)).to.deep.include({ status: 'processed' });
      expect((await decided(after, late.body.id)).earnings).to.have.length(1);
      // Granting is a second step after the decision: give the earnings projection a moment.
      let earnings = 0;
      for (let waited = 0; earnings < 7 && waited < 10_000; waited += 50) {
        earnings = (await after.queries.get('/earnings?campaignId=' + campaign.body.id)).body.earnings.length;
        if (earnings < 7) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(earnings).to.equal(7);
      const view = await after.queries.get(`/campaigns/${campaign.body.id}`);
      expect(view.body.rules.map((r: { id: string }) => r.id)).to.include(rule.body.id);
      // The command API's own view of the rules follows too.
      const simulated = await after.commands.post(`/events/simulate?minPosition=${rule.body.position}`, { merchantId: 'M-2', customerId: 'C-9' });
      expect(simulated.body.wouldMatch.map((m: { ruleId: string }) => m.ruleId)).to.deep.equal([rule.body.id]);
      // A subscriber that stopped before the move, resuming from its checkpoint, gets exactly the new events.
      const resumed = after.tally.store.subscribeToAll({ fromPosition: oldHead, filter: { eventTypes: ['EventRegistered'] } });
      const seen: string[] = [];
      for await (const event of resumed) {
        seen.push(String(event.data.eventId));
        if (seen.length === 4) break;
      }
      await resumed.close();
      expect(seen).to.deep.equal([...newer.map((reply) => reply.body.id), late.body.id]);
      // Every checkpoint moved on from where it stood before the move (but the mark of where lifecycle messages began, which never moves).
      const newCheckpoints = await checkpointsOf(target.url);
      for (const [name, position] of Object.entries(oldCheckpoints)) {
        if (name !== LIFECYCLE_MESSAGES_FROM) expect(newCheckpoints[name]! > position).to.equal(true, name);
      }
    } finally {
      await after.stop();
    }
  };

  it('delivers every event appended after a pg_dump/pg_restore onto another server', async () => {
    await move(undefined);
  });

  it('does so when the new server hands out transaction ids far below the old ones', async () => {
    await move(1000);
  });
});
