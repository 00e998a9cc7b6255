import { expect } from 'chai';
import pg from 'pg';
import { MESSAGE_REQUESTS_CHECKPOINT, messageIdForApproval, messageIdForEarning, messageIdForReversal } from '../../commands/reactors/message-requests.ts';
import { earningStream, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import { EVENT_STORE_KINDS, eventStoreEnv, type EventStoreEnv } from '../support/event-store-kinds.ts';
import { handMadeEarnings } from '../support/hand-made-earnings.ts';
import { runTally } from '../support/running-tally.ts';
import { startSmtpRecorder } from '../support/smtp-recorder.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

type App = Awaited<ReturnType<typeof runTally>>;

const DAY_MS = 86_400_000;

/**
 * Issue 11, messaging: an approval or a reversal of an earning of a campaign
 * with notifications sends a message, as a grant does. Approvals come from
 * the real approvals reactor (the test moves Tally's clock past the hold);
 * reversals are appended by hand, as the rule engine would append them for a
 * refund, so that this suite tests messaging, not how refunds are decided.
 */
for (const kind of EVENT_STORE_KINDS) {
  describe(`messages on approval and reversal over HTTP, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let smtp: Awaited<ReturnType<typeof startSmtpRecorder>>;
    let now: Date;
    const apps: App[] = [];
    const start = async (): Promise<App> => {
      const app = await runTally(database.url, { env: { ...eventStore.env, SMTP_URL: smtp.url, MAIL_FROM: 'Tally <tally@example.com>' }, clock: () => now });
      apps.push(app);
      return app;
    };
    const stop = async (app: App): Promise<void> => {
      apps.splice(apps.indexOf(app), 1);
      await app.stop();
    };

    beforeEach(async () => {
      now = new Date('2026-03-01T10:00:00.000Z');
      database = await createTestDatabase();
      eventStore = await eventStoreEnv(kind);
      smtp = await startSmtpRecorder();
    });
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.stop();
      await smtp?.close();
      await eventStore?.stop();
      await database?.drop();
    });

    /** A campaign held one day, a rule of 5 EUR on this merchant, and a purchase that earns: the earning's grant, as written. */
    const earn = async (app: App, merchantId: string, campaign: object): Promise<{ campaignId: string; grant: EarningGranted['data'] }> => {
      const created = await app.commands.post('/campaigns', { holdDays: 1, ...campaign });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      await app.commands.post(`/campaigns/${created.body.id}/rules`, { conditions: { merchantId }, reward: { type: 'fixed', amount: 5 } });
      const purchase = await app.commands.post('/events', { type: 'purchase', merchantId, customerId: 'C-1', amount: 150, data: { email: 'ada@example.com', name: 'Ada' } });
      const decided = await app.queries.get(`/events/${purchase.body.id}?wait=10`);
      expect(decided.body.earnings, JSON.stringify(decided.body)).to.have.length(1);
      for await (const recorded of app.tally.store.readStream(earningStream(decided.body.earnings[0].id), { maxCount: 1 })) {
        return { campaignId: created.body.id, grant: asDomainEvent<EarningGranted>(recorded).data };
      }
      throw new Error('no grant');
    };
    /** Past the one-day hold: the approvals reactor's next tick approves. */
    const holdsEnd = (): void => {
      now = new Date(now.getTime() + DAY_MS + 1000);
    };
    const sent = (app: App, messageId: string) =>
      until(`message ${messageId} is sent`, async () => (await app.queries.get(`/messages/${messageId}`)).body, { ok: (body) => body?.status === 'sent', detail: (body) => JSON.stringify(body) });
    const bodyOf = async (app: App, messageId: string): Promise<string> => (await sent(app, messageId)).body;
    const requestCount = async (app: App): Promise<number> => {
      let count = 0;
      for await (const event of app.tally.store.readAll()) if (event.type === 'MessageRequested') count++;
      return count;
    };
    const sentCount = async (app: App): Promise<number> => {
      let count = 0;
      for await (const event of app.tally.store.readAll()) if (event.type === 'MessageSent') count++;
      return count;
    };
    const messageIds = async (app: App, campaignId: string): Promise<string[]> =>
      ((await app.queries.get(`/messages?campaignId=${campaignId}`)).body.messages as { id: string }[]).map((each) => each.id).sort();

    it('tells the customer of the approval and of each partial reversal, in default words; nothing for a campaign without notifications; a replay after a restart sends nothing twice', async () => {
      const app = await start();
      const told = await earn(app, 'M-1', { name: 'Spring Sale', notifications: { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}} {{earning.currency}}' } });
      const quiet = await earn(app, 'M-2', { name: 'Quiet' });
      const { earningId } = told.grant;
      expect(await bodyOf(app, messageIdForEarning(earningId))).to.equal('You earned 5 EUR');

      holdsEnd();
      expect(await bodyOf(app, messageIdForApproval(earningId))).to.equal('Your reward of 5 EUR from Spring Sale is approved.');
      await until('the quiet earning is approved too', async () => (await app.queries.get(`/earnings?campaignId=${quiet.campaignId}&status=approved`)).body.earnings.length === 1);

      // Refunds, as the rule engine would reverse them; the quiet campaign's first, so that its turn has come by the time the others are told.
      const earnings = handMadeEarnings(app.tally.store);
      await earnings.reverse(quiet.grant, 'refund-q', 500, 0, now.toISOString(), 'refunded in full');
      await earnings.reverse(told.grant, 'refund-1', 150, 350, now.toISOString(), '30% of the purchase refunded');
      await earnings.reverse(told.grant, 'refund-2', 100, 250, now.toISOString(), '20% of the purchase refunded');
      expect(await bodyOf(app, messageIdForReversal(earningId, 'refund-1'))).to.equal('1.5 EUR of your reward from Spring Sale was reversed (30% of the purchase refunded); 3.5 EUR remains.');
      expect(await bodyOf(app, messageIdForReversal(earningId, 'refund-2'))).to.equal('1 EUR of your reward from Spring Sale was reversed (20% of the purchase refunded); 2.5 EUR remains.');

      const ids = [messageIdForEarning(earningId), messageIdForApproval(earningId), messageIdForReversal(earningId, 'refund-1'), messageIdForReversal(earningId, 'refund-2')];
      const lifecycles = await Promise.all(ids.map(async (id) => (await sent(app, id)).lifecycle));
      expect(lifecycles).to.deep.equal(['granted', 'approved', 'reversed', 'reversed']);
      expect(await messageIds(app, told.campaignId)).to.deep.equal([...ids].sort());
      expect(await messageIds(app, quiet.campaignId)).to.deep.equal([]);
      expect(await requestCount(app)).to.equal(4);
      expect(await sentCount(app)).to.equal(4);

      // A restart that finds the checkpoint gone (a crash before it was saved, at worst): every step is asked for again, under the same id, and refused.
      await stop(app);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query('delete from tally_checkpoints where name = $1', [MESSAGE_REQUESTS_CHECKPOINT]);
      } finally {
        await client.end();
      }
      const again = await start();
      // A new purchase after the restart: once its grant is told, the reactor has gone over everything before it.
      const later = await earn(again, 'M-3', { name: 'Later', notifications: { channel: 'log', recipient: 'customerId', template: 'Later: {{earning.amount}}' } });
      expect(await bodyOf(again, messageIdForEarning(later.grant.earningId))).to.equal('Later: 5');
      expect(await requestCount(again)).to.equal(5);
      expect(await sentCount(again)).to.equal(5);
      for (const id of ids) expect((await again.queries.get(`/messages/${id}`)).body).to.include({ status: 'sent', attemptCount: 1 });
    });

    it('words approvals and reversals as the campaign asks, with subjects of their own, and shows the wordings on the campaign', async () => {
      const app = await start();
      const notifications = {
        channel: 'email', recipient: 'data.email', template: 'You earned {{earning.amount}} {{earning.currency}}.', subject: 'Your reward',
        onApproved: { template: 'Good news {{event.data.name}}: {{approval.amount}} {{earning.currency}} are yours to spend.', subject: 'Approved' },
        onReversed: { template: 'We took back {{reversal.amount}} {{earning.currency}} ({{reversal.reason}}); {{reversal.remaining}} {{earning.currency}} left.', subject: 'Refund' },
      };
      const { campaignId, grant } = await earn(app, 'M-1', { name: 'Spring Sale', notifications });
      await sent(app, messageIdForEarning(grant.earningId));
      holdsEnd();
      await sent(app, messageIdForApproval(grant.earningId));
      await handMadeEarnings(app.tally.store).reverse(grant, 'refund-1', 200, 300, now.toISOString(), '40% of the purchase refunded');
      await sent(app, messageIdForReversal(grant.earningId, 'refund-1'));

      const mails = smtp.mails.map((mail) => ({ to: mail.to, subject: /^Subject: (.*)$/m.exec(mail.raw)?.[1], raw: mail.raw }));
      expect(mails.map((mail) => mail.subject)).to.deep.equal(['Your reward', 'Approved', 'Refund']);
      expect(mails.every((mail) => mail.to.join() === 'ada@example.com')).to.equal(true);
      expect(mails[0]!.raw).to.include('You earned 5 EUR.');
      expect(mails[1]!.raw).to.include('Good news Ada: 5 EUR are yours to spend.');
      expect(mails[2]!.raw).to.include('We took back 2 EUR (40% of the purchase refunded); 3 EUR left.');
      expect((await app.queries.get(`/campaigns/${campaignId}`)).body.notifications).to.deep.equal({ ...notifications, hasSecret: false });
    });

    it('refuses a bad onApproved or onReversed with a 400 problem+json naming the field, and creates nothing', async () => {
      const app = await start();
      const base = { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}' };
      const bad = [
        [{ ...base, onReversed: {} }, '/notifications/onReversed'],
        [{ ...base, onReversed: { template: 't', prompt: 'p' } }, '/notifications/onReversed'],
        [{ ...base, onReversed: { subject: 'only a subject' } }, '/notifications/onReversed'],
        [{ ...base, onReversed: { template: '' } }, '/notifications/onReversed/template'],
        [{ ...base, onReversed: 'Refunded!' }, '/notifications/onReversed'],
        [{ ...base, onReversed: { template: 't', body: 'b' } }, '/notifications/onReversed/body'],
        [{ ...base, onApproved: { prompt: 'x'.repeat(10_001) } }, '/notifications/onApproved/prompt'],
      ] as const;
      for (const [notifications, pointer] of bad) {
        const answer = await app.commands.post('/campaigns', { name: 'Bad', notifications });
        expect(answer.status, JSON.stringify(notifications)).to.equal(400);
        expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(answer.body.errors[0].pointer, JSON.stringify(answer.body)).to.equal(pointer);
      }
      for await (const event of app.tally.store.readAll()) expect(event.type).to.not.equal('CampaignCreated');
    });
  });
}
