import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const DAY_MS = 86_400_000;

interface Earning { id: string; status: string; grantedAt: string; approvesAt: string; approvedAt: string | null; amount: number }

describe('earning hold and approval over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let now = new Date('2026-03-01T10:00:00.000Z');

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url, { clock: () => now });
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const earnings = async (query: string): Promise<Earning[]> => {
    const response = await app.queries.get(`/earnings?${query}`);
    expect(response.status).to.equal(200);
    return response.body.earnings;
  };
  const balance = async (beneficiaryId: string) => (await app.queries.get(`/beneficiaries/${beneficiaryId}/balance`)).body;

  it('refuses holdDays that are not a whole number of days, 0 or more, and creates nothing', async () => {
    for (const holdDays of [-1, 1.5, '3', null]) {
      const response = await app.commands.post('/campaigns', { name: 'Held', holdDays });
      expect(response.status, JSON.stringify(holdDays)).to.equal(400);
      expect(response.headers.get('content-type')).to.match(/application\/problem\+json/);
      expect(response.body.errors[0]).to.include({ pointer: '/holdDays' });
    }
    for await (const event of app.tally.store.readAll()) expect(event.type).to.not.equal('CampaignCreated');
  });

  it('holds an earning pending for the campaign’s holdDays, then approves it; balances and filters follow', async () => {
    const held = await app.commands.post('/campaigns', { name: 'Held', holdDays: 3 });
    expect(held.status).to.equal(201);
    await app.commands.post(`/campaigns/${held.body.id}/rules`, { conditions: { merchantId: 'M1' }, reward: { type: 'fixed', amount: 5.25 } });
    const instant = await app.commands.post('/campaigns', { name: 'At once' });
    await app.commands.post(`/campaigns/${instant.body.id}/rules`, { conditions: { merchantId: 'M1' }, reward: { type: 'fixed', amount: 1.1 } });

    const purchase = await app.commands.post('/events', { type: 'purchase', merchantId: 'M1', customerId: 'C-7', amount: 100 });
    expect(purchase.status).to.equal(202);
    const both = await until('both earnings projected', () => earnings('beneficiaryId=C-7'), { ok: (rows) => rows.length === 2 });
    const heldEarning = both.find((row) => row.amount === 5.25)!;
    const instantEarning = both.find((row) => row.amount === 1.1)!;
    expect(heldEarning).to.include({ status: 'pending', approvedAt: null });
    expect(Date.parse(heldEarning.approvesAt) - Date.parse(heldEarning.grantedAt)).to.equal(3 * DAY_MS);
    // No hold: approved when granted, with no EarningApproved of its own.
    expect(instantEarning).to.include({ status: 'approved', approvesAt: instantEarning.grantedAt, approvedAt: instantEarning.grantedAt });

    expect(await balance('C-7')).to.deep.equal({ beneficiaryId: 'C-7', balances: [{ currency: 'EUR', pending: 5.25, approved: 1.1, reversed: 0, available: 1.1 }] });
    expect((await earnings('beneficiaryId=C-7&status=pending')).map((row) => row.id)).to.deep.equal([heldEarning.id]);
    expect((await earnings('beneficiaryId=C-7&status=approved')).map((row) => row.id)).to.deep.equal([instantEarning.id]);
    expect((await earnings(`campaignId=${held.body.id}&status=approved`))).to.deep.equal([]);

    // Not yet due: the approval reactor's ticks leave it pending.
    now = new Date(Date.parse(heldEarning.approvesAt) - 1000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await earnings('status=pending')).map((row) => row.id)).to.deep.equal([heldEarning.id]);

    now = new Date(Date.parse(heldEarning.approvesAt) + 1000);
    const [approved] = await until('the held earning approved', () => earnings(`campaignId=${held.body.id}&status=approved`), { ok: (rows) => rows.length === 1 });
    expect(approved).to.include({ id: heldEarning.id, approvedAt: now.toISOString() });
    expect(await earnings('status=pending')).to.deep.equal([]);
    expect((await balance('C-7')).balances).to.deep.equal([{ currency: 'EUR', pending: 0, approved: 6.35, reversed: 0, available: 6.35 }]);

    const stream = await app.queries.get(`/streams/earning-${heldEarning.id}`);
    expect(stream.body.events.map((event: { type: string }) => event.type)).to.deep.equal(['EarningGranted', 'EarningApproved']);
  });

  it('approves after a restart an earning whose hold ended while Tally was down', async () => {
    const held = await app.commands.post('/campaigns', { name: 'Held over a restart', holdDays: 1 });
    await app.commands.post(`/campaigns/${held.body.id}/rules`, { conditions: { merchantId: 'M2' }, reward: { type: 'fixed', amount: 2 } });
    await app.commands.post('/events', { type: 'purchase', merchantId: 'M2', customerId: 'C-8', amount: 10 });
    const [pending] = await until('the earning projected', () => earnings('beneficiaryId=C-8&status=pending'), { ok: (rows) => rows.length === 1 });
    await app.stop();
    now = new Date(Date.parse(pending!.approvesAt) + DAY_MS);
    app = await runTally(database.url, { clock: () => now });
    const [approved] = await until('approved after the restart', () => earnings('beneficiaryId=C-8&status=approved'), { ok: (rows) => rows.length === 1 });
    expect(approved).to.include({ id: pending!.id, approvedAt: now.toISOString() });
    expect((await balance('C-8')).balances).to.deep.equal([{ currency: 'EUR', pending: 0, approved: 2, reversed: 0, available: 2 }]);
  });

  it('answers empty balances for a beneficiary with no earnings, and 400 for an unknown status', async () => {
    expect(await balance('nobody')).to.deep.equal({ beneficiaryId: 'nobody', balances: [] });
    const response = await app.queries.get('/earnings?status=granted');
    expect(response.status).to.equal(400);
    expect(response.body.errors[0]).to.include({ pointer: '/query/status' });
  });
});
