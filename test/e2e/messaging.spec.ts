import { expect } from 'chai';
import { MESSAGE_DELIVERY_SUBSCRIBER } from '../../commands/reactors/message-delivery.ts';
import { messageIdForEarning } from '../../commands/reactors/message-requests.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import { startFakeOpenAi } from '../support/fake-llm/fake-openai-server.ts';
import { EVENT_STORE_KINDS, eventStoreEnv, type EventStoreEnv } from '../support/event-store-kinds.ts';
import { runTally } from '../support/running-tally.ts';
import { startSmtpRecorder } from '../support/smtp-recorder.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

type App = Awaited<ReturnType<typeof runTally>>;

const SECRET = 'campaign-secret';

/** Issue 10, messaging: each earning of a campaign with notifications reaches its customer, at least once, recorded in the log. */
for (const kind of EVENT_STORE_KINDS) {
  describe(`messaging over HTTP, event store: ${kind}`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let eventStore: EventStoreEnv;
    let smtp: Awaited<ReturnType<typeof startSmtpRecorder>>;
    const apps: App[] = [];
    /** A short backoff (200 ms, 400 ms, …) so that retries come within the test; the node-cron tick (every second) picks them up. */
    const start = async (env: Record<string, string> = {}, wrapStore?: (store: EventStore) => EventStore): Promise<App> => {
      const app = await runTally(database.url, { env: { ...eventStore.env, MESSAGE_RETRY_BASE_MS: '200', SMTP_URL: smtp.url, MAIL_FROM: 'Tally <tally@example.com>', ...env }, wrapStore });
      apps.push(app);
      return app;
    };

    beforeEach(async () => {
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

    /** A campaign with these notifications and one rule; a purchase that earns; the message id derived from the earning. */
    const earn = async (app: App, notifications: object): Promise<{ messageId: string; campaignId: string }> => {
      const campaign = await app.commands.post('/campaigns', { name: 'Spring Sale', notifications });
      expect(campaign.status, JSON.stringify(campaign.body)).to.equal(201);
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 5 } });
      const purchase = await app.commands.post('/events', { type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 150, data: { email: 'ada@example.com', name: 'Ada' } });
      const decided = await app.queries.get(`/events/${purchase.body.id}?wait=10`);
      expect(decided.body.earnings, JSON.stringify(decided.body)).to.have.length(1);
      return { messageId: messageIdForEarning(decided.body.earnings[0].id), campaignId: campaign.body.id };
    };
    const messageOnceSettled = (app: App, messageId: string, status: string) =>
      until(`message ${messageId} is ${status}`, async () => (await app.queries.get(`/messages/${messageId}`)).body, { ok: (body) => body?.status === status, detail: (body) => JSON.stringify(body) });
    const logSize = async (app: App): Promise<number> => {
      let count = 0;
      for await (const _event of app.tally.store.readAll()) count++;
      return count;
    };
    const sentCount = async (app: App, messageId: string): Promise<number> => {
      const stream = await app.queries.get(`/streams/message-${messageId}`);
      return (stream.body.events as { type: string }[]).filter((event) => event.type === 'MessageSent').length;
    };

    it('refuses bad notifications with a 400 that names the field, and creates nothing', async () => {
      const app = await start();
      const bad = [
        [{ channel: 'log', recipient: 'customerId' }, '/notifications'],
        [{ channel: 'log', recipient: 'customerId', template: 't', prompt: 'p' }, '/notifications'],
        [{ channel: 'log', recipient: 'data..email', template: 't' }, '/notifications/recipient'],
        [{ channel: 'webhook', recipient: 'customerId', template: 't' }, '/notifications/webhookUrl'],
        [{ channel: 'sms', recipient: 'customerId', template: 't' }, '/notifications/channel'],
      ] as const;
      for (const [notifications, pointer] of bad) {
        const answer = await app.commands.post('/campaigns', { name: 'Bad', notifications });
        expect(answer.status, JSON.stringify(notifications)).to.equal(400);
        expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(answer.body.errors[0].pointer, JSON.stringify(answer.body)).to.equal(pointer);
      }
      let written = 0;
      for await (const event of app.tally.store.readAll()) if (event.type === 'CampaignCreated') written++;
      expect(written).to.equal(0);
    });

    it('delivers a webhook signed, with the message id as Idempotency-Key, after failed attempts, and shows the attempts', async () => {
      const receiver = await startWebhookReceiver({ secret: SECRET, failFirst: 2 });
      try {
        const app = await start();
        const { messageId, campaignId } = await earn(app, {
          channel: 'webhook', recipient: 'data.email', template: 'Hi {{event.data.name}}, you earned {{earning.amount}} {{earning.currency}}', webhookUrl: receiver.url, secret: SECRET,
        });
        const message = await messageOnceSettled(app, messageId, 'sent');
        expect(receiver.received.map((got) => got.status)).to.deep.equal([500, 500, 200]);
        for (const got of receiver.received) {
          expect(got).to.include({ idempotencyKey: messageId, signed: true });
          expect(got.body).to.include({ messageId, recipient: 'ada@example.com', body: 'Hi Ada, you earned 5 EUR', campaignId });
        }
        expect(message).to.include({ channel: 'webhook', recipient: 'ada@example.com', body: 'Hi Ada, you earned 5 EUR', provider: 'template', attemptCount: 3, campaignId });
        expect(message.attempts.map((attempt: { outcome: string }) => attempt.outcome)).to.deep.equal(['failed', 'failed', 'sent']);
        expect(message.attempts[0].error).to.include('HTTP 500');
        expect(await sentCount(app, messageId)).to.equal(1);
        const listed = await app.queries.get(`/messages?recipient=ada@example.com&status=sent&campaignId=${campaignId}`);
        expect(listed.body.messages.map((each: { id: string }) => each.id)).to.deep.equal([messageId]);
        expect((await app.queries.get('/messages?status=nonsense')).status).to.equal(400);
        // The campaign shows what it sends, and that it signs, never with what: a secret is not echoed.
        const campaign = (await app.queries.get(`/campaigns/${campaignId}`)).body;
        expect(campaign.notifications).to.deep.equal({
          channel: 'webhook', recipient: 'data.email', template: 'Hi {{event.data.name}}, you earned {{earning.amount}} {{earning.currency}}', webhookUrl: receiver.url, hasSecret: true,
        });
        expect(JSON.stringify(campaign)).not.to.include(SECRET);
        // A delivery that failed is in the log, not a failing deliverer.
        const health = await app.queries.get('/health');
        expect(health.body.subscribers[MESSAGE_DELIVERY_SUBSCRIBER]).to.include({ state: 'running' });
      } finally {
        await receiver.close();
      }
    });

    it('sends email through SMTP with the Message-ID derived from the message id and the campaign as subject', async () => {
      const app = await start();
      const { messageId } = await earn(app, { channel: 'email', recipient: 'data.email', template: 'You earned {{earning.amount}} {{earning.currency}}.' });
      await messageOnceSettled(app, messageId, 'sent');
      expect(smtp.mails).to.have.length(1);
      expect(smtp.mails[0]!.to).to.deep.equal(['ada@example.com']);
      expect(smtp.mails[0]!.raw).to.include(`Message-ID: <${messageId}@tally>`).and.include('Subject: Spring Sale').and.include('You earned 5 EUR.');
    });

    it('composes a prompt through the AI gateway (no keys: the offline provider) and records who wrote it', async () => {
      const app = await start();
      const { messageId } = await earn(app, { channel: 'log', recipient: 'customerId', prompt: 'Thank the customer for their purchase and name the reward' });
      const message = await messageOnceSettled(app, messageId, 'sent');
      expect(message).to.include({ recipient: 'C-1', provider: 'offline', attemptCount: 1 });
      expect(message.body).to.be.a('string').and.not.equal('');
      expect(message.model).to.be.a('string');
    });

    it('composes a prompt through the real openai SDK against a fake OpenAI server, and records provider, model and cache', async () => {
      const openai = await startFakeOpenAi();
      try {
        openai.fallbackStep = { answer: 'Thanks Ada, 5 EUR are yours.', model: 'gpt-4o-mini-2024-07-18' };
        const app = await start({ OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl, LLM_FALLBACK: 'openai', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '2000' });
        const { messageId } = await earn(app, { channel: 'log', recipient: 'customerId', prompt: 'Thank the customer and name the reward' });
        const message = await messageOnceSettled(app, messageId, 'sent');
        expect(message).to.include({ recipient: 'C-1', body: 'Thanks Ada, 5 EUR are yours.', provider: 'openai', model: 'gpt-4o-mini-2024-07-18', cached: false, attemptCount: 1 });
        const stream = await app.queries.get(`/streams/message-${messageId}`);
        const sent = (stream.body.events as { type: string; data: object }[]).find((event) => event.type === 'MessageSent');
        expect(sent?.data).to.include({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', cached: false });
        // The prompt went out with the earning and the tracked event as context.
        expect(openai.completions()).to.have.length(1);
        expect(JSON.stringify(openai.completions()[0]!.body)).to.include('Thank the customer and name the reward').and.include('ada@example.com');
      } finally {
        await openai.close();
      }
    });

    it('sends a message asked for with POST /messages, and refuses a bad one', async () => {
      const app = await start();
      const sent = await app.commands.post('/messages', { recipient: 'C-9', body: 'Welcome!' });
      expect(sent.status).to.equal(202);
      expect(sent.body).to.include({ status: 'requested' });
      const message = await messageOnceSettled(app, sent.body.id, 'sent');
      expect(message).to.include({ channel: 'log', recipient: 'C-9', body: 'Welcome!', provider: 'explicit', earningId: null });
      for (const bad of [{ recipient: 'C-9', body: 'a', prompt: 'b' }, { recipient: 'C-9' }, { recipient: 'C-9', body: 'a', channel: 'webhook' }, { recipient: 'C-9', body: 'a', channel: 'fax' }]) {
        const answer = await app.commands.post('/messages', bad);
        expect(answer.status, JSON.stringify(bad)).to.equal(400);
      }
    });

    it('refuses a webhookUrl with credentials and an email recipient that is not one address, with a 400 naming the field, and writes nothing', async () => {
      const app = await start();
      const before = await logSize(app);
      const campaign = await app.commands.post('/campaigns', {
        name: 'Leaky', notifications: { channel: 'webhook', recipient: 'data.email', template: 't', webhookUrl: 'http://user:hunter2@127.0.0.1:1/hook' },
      });
      expect(campaign.status).to.equal(400);
      expect(campaign.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(campaign.body.errors[0].pointer).to.equal('/notifications/webhookUrl');
      expect(JSON.stringify(campaign.body)).not.to.include('hunter2');
      const bad = [
        [{ recipient: 'C-9', body: 'a', channel: 'webhook', webhookUrl: 'https://user:hunter2@example.com/hook' }, '/webhookUrl'],
        [{ recipient: 'a@example.com, victim@evil.example', body: 'a', channel: 'email' }, '/recipient'],
        [{ recipient: 'a@example.com\r\nBcc: victim@evil.example', body: 'a', channel: 'email' }, '/recipient'],
        [{ recipient: 'not-an-address', body: 'a', channel: 'email' }, '/recipient'],
      ] as const;
      for (const [body, pointer] of bad) {
        const answer = await app.commands.post('/messages', body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(answer.body.errors[0].pointer, JSON.stringify(answer.body)).to.equal(pointer);
      }
      expect(await logSize(app)).to.equal(before);
    });

    it('refuses an explicit body over MESSAGE_MAX_BODY_BYTES with a 400 naming /body, and writes nothing', async () => {
      const app = await start({ MESSAGE_MAX_BODY_BYTES: '100' });
      const before = await logSize(app);
      const answer = await app.commands.post('/messages', { recipient: 'C-9', body: 'é'.repeat(51) });
      expect(answer.status).to.equal(400);
      expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(answer.body.errors[0].pointer).to.equal('/body');
      expect(answer.body.detail).to.include('102 bytes');
      expect(await logSize(app)).to.equal(before);
      expect((await app.commands.post('/messages', { recipient: 'C-9', body: 'x'.repeat(100) })).status).to.equal(202);
    });

    it('shows a message that cannot be sent (a recipient list from customer data, no recipient at all) as abandoned, with why, and sends nothing', async () => {
      const app = await start();
      const campaign = await app.commands.post('/campaigns', { name: 'Spring Sale', notifications: { channel: 'email', recipient: 'data.email', template: 'You earned {{earning.amount}}' } });
      expect(campaign.status).to.equal(201);
      await app.commands.post(`/campaigns/${campaign.body.id}/rules`, { conditions: { merchantId: 'M-1' }, reward: { type: 'fixed', amount: 5 } });
      const earned = async (data: object): Promise<string> => {
        const purchase = await app.commands.post('/events', { type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 150, data });
        const decided = await app.queries.get(`/events/${purchase.body.id}?wait=10`);
        return messageIdForEarning(decided.body.earnings[0].id);
      };
      const injected = await earned({ email: 'ada@example.com, victim@evil.example' });
      const missing = await earned({ name: 'no email' });
      const abandonedInjected = await messageOnceSettled(app, injected, 'abandoned');
      expect(abandonedInjected).to.include({ recipient: 'ada@example.com, victim@evil.example', attemptCount: 0 });
      expect(abandonedInjected.lastError).to.match(/not one plain email address/);
      const abandonedMissing = await messageOnceSettled(app, missing, 'abandoned');
      expect(abandonedMissing).to.include({ recipient: '', lastError: 'no recipient at data.email' });
      const types = (await app.queries.get(`/streams/message-${injected}`)).body.events.map((event: { type: string }) => event.type);
      expect(types).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
      const listed = await app.queries.get(`/messages?status=abandoned&campaignId=${campaign.body.id}`);
      expect(listed.body.messages.map((each: { id: string }) => each.id).sort()).to.deep.equal([injected, missing].sort());
      expect(smtp.mails).to.have.length(0);
    });

    it('after a crash between delivery and MessageSent, delivers again with the same Idempotency-Key, and the log has one MessageSent', async () => {
      // The receiver takes the first POST and holds its answer: Tally is stopped while it waits, as a crash would.
      const receiver = await startWebhookReceiver({ secret: SECRET, holdRequest: 0 });
      try {
        const first = await start();
        const { messageId } = await earn(first, { channel: 'webhook', recipient: 'data.email', template: 'You earned {{earning.amount}}', webhookUrl: receiver.url, secret: SECRET });
        await until('the receiver got the POST', () => receiver.received.length === 1);
        apps.splice(apps.indexOf(first), 1);
        await first.stop();
        receiver.release();
        expect(receiver.received).to.have.length(1);

        const second = await start();
        await messageOnceSettled(second, messageId, 'sent');
        expect(receiver.received.map((got) => got.idempotencyKey)).to.deep.equal([messageId, messageId]);
        expect(await sentCount(second, messageId)).to.equal(1);
        const message = (await second.queries.get(`/messages/${messageId}`)).body;
        expect(message.attempts).to.have.length(1);
      } finally {
        await receiver.close();
      }
    });
  
    it('filters GET /messages by recipient, status and campaignId, each of them and together', async () => {
      const app = await start({ MESSAGE_MAX_ATTEMPTS: '1' });
      const campaign = async (name: string, merchantId: string): Promise<string> => {
        const created = await app.commands.post('/campaigns', { name, notifications: { channel: 'log', recipient: 'customerId', template: '{{campaign.name}}: {{earning.amount}}' } });
        await app.commands.post(`/campaigns/${created.body.id}/rules`, { conditions: { merchantId }, reward: { type: 'fixed', amount: 5 } });
        return created.body.id as string;
      };
      const a = await campaign('A', 'M-A');
      const b = await campaign('B', 'M-B');
      const earned = async (merchantId: string, customerId: string): Promise<string> => {
        const purchase = await app.commands.post('/events', { type: 'purchase', merchantId, customerId, amount: 150 });
        const decided = await app.queries.get(`/events/${purchase.body.id}?wait=10`);
        return messageIdForEarning(decided.body.earnings[0].id);
      };
      const aC1 = await earned('M-A', 'C-1');
      const aC2 = await earned('M-A', 'C-2');
      const bC1 = await earned('M-B', 'C-1');
      const explicit = (await app.commands.post('/messages', { recipient: 'C-1', body: 'Welcome!' })).body.id as string;
      // Nothing listens there, and one attempt is all it gets: abandoned.
      const failing = (await app.commands.post('/messages', { recipient: 'C-1', body: 'Hello?', channel: 'webhook', webhookUrl: 'http://127.0.0.1:1/hook' })).body.id as string;
      for (const id of [aC1, aC2, bC1, explicit]) await messageOnceSettled(app, id, 'sent');
      await messageOnceSettled(app, failing, 'abandoned');
      const ids = async (query: string): Promise<string[]> => {
        const answer = await app.queries.get(`/messages?${query}`);
        expect(answer.status, query).to.equal(200);
        return (answer.body.messages as { id: string }[]).map((each) => each.id).sort();
      };
      const sorted = (...list: string[]) => [...list].sort();
      expect(await ids('')).to.deep.equal(sorted(aC1, aC2, bC1, explicit, failing));
      expect(await ids('recipient=C-1')).to.deep.equal(sorted(aC1, bC1, explicit, failing));
      expect(await ids('recipient=C-2')).to.deep.equal([aC2]);
      expect(await ids(`campaignId=${a}`)).to.deep.equal(sorted(aC1, aC2));
      expect(await ids(`campaignId=${b}`)).to.deep.equal([bC1]);
      expect(await ids('status=abandoned')).to.deep.equal([failing]);
      expect(await ids('status=sent')).to.deep.equal(sorted(aC1, aC2, bC1, explicit));
      expect(await ids(`recipient=C-1&campaignId=${a}`)).to.deep.equal([aC1]);
      expect(await ids('recipient=C-1&status=sent')).to.deep.equal(sorted(aC1, bC1, explicit));
      expect(await ids(`recipient=C-2&campaignId=${b}`)).to.deep.equal([]);
      expect(await ids('status=requested')).to.deep.equal([]);
    });

    it('after a crash between the channel\'s success and MessageSent, sends again the same body under the same Idempotency-Key, and the log has one MessageSent', async () => {
      const receiver = await startWebhookReceiver({ secret: SECRET });
      const openai = await startFakeOpenAi();
      try {
        // The model would write another body after the restart (its in-process cache is gone with the process).
        openai.script({ answer: 'Thanks Ada (first draft)' }, { answer: 'Thanks Ada (second draft)' });
        openai.fallbackStep = { answer: 'Thanks Ada (later draft)' };
        const llmEnv = { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl, LLM_FALLBACK: 'openai', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '2000' };
        // The first process delivers, and dies before its MessageSent is written: that append fails, as a lost connection would.
        let refusedSent = 0;
        const losingMessageSent = (store: EventStore): EventStore =>
          new Proxy(store, {
            get: (target, property, receiver) =>
              property === 'appendToStream'
                ? async (...args: Parameters<EventStore['appendToStream']>) => {
                    if (args[1].some((event) => event.type === 'MessageSent')) {
                      refusedSent++;
                      throw new Error('connection lost before MessageSent was written');
                    }
                    return target.appendToStream(...args);
                  }
                : Reflect.get(target, property, receiver),
          });
        const first = await start(llmEnv, losingMessageSent);
        const { messageId } = await earn(first, { channel: 'webhook', recipient: 'data.email', prompt: 'Thank the customer', webhookUrl: receiver.url, secret: SECRET });
        await until('the channel took the message and MessageSent was refused', () => receiver.received.length === 1 && refusedSent > 0);
        expect(await sentCount(first, messageId)).to.equal(0);
        apps.splice(apps.indexOf(first), 1);
        await first.stop();

        const second = await start(llmEnv);
        const message = await messageOnceSettled(second, messageId, 'sent');
        expect(receiver.received.map((got) => got.idempotencyKey)).to.deep.equal([messageId, messageId]);
        expect(receiver.received.map((got) => got.body.body)).to.deep.equal(['Thanks Ada (first draft)', 'Thanks Ada (first draft)']);
        expect(receiver.received.every((got) => got.signed)).to.equal(true);
        expect(await sentCount(second, messageId)).to.equal(1);
        expect(message).to.include({ body: 'Thanks Ada (first draft)', provider: 'openai', attemptCount: 1 });
        expect(openai.completions()).to.have.length(1);
      } finally {
        await openai.close();
        await receiver.close();
      }
    });
  });
}
