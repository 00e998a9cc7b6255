import { expect } from 'chai';
import type { Knex } from 'knex';
import { MESSAGE_REQUESTS_CHECKPOINT, messageIdForEarning, startMessageRequests } from '../../commands/reactors/message-requests.ts';
import type { RunningReactor } from '../../commands/reactors/rule-engine.ts';
import { campaignStream, type CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import { earningStream, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { messageStream, type MessageAbandoned, type MessageEvent, type MessageRequested } from '../../domain/message/message-events.ts';
import type { JsonObject } from '../../domain/json.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AppendTooLargeError, isAtOrAfter, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const now = '2026-03-01T10:00:00.000Z';

describe('message requests reactor', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let writer: Awaited<ReturnType<typeof runTally>>;
  let knex: Knex;
  let store: EventStore;
  const running: RunningReactor[] = [];
  const start = async ({ on = store, maxContextBytes = 16_384 }: { on?: EventStore; maxContextBytes?: number } = {}) => {
    const reactor = await startMessageRequests({ store: on, checkpoints: createCheckpoints(knex), clock: () => new Date(now), logger: silentLogger, onFatal: (error) => expect.fail(String(error)), maxContextBytes });
    running.push(reactor);
    return reactor;
  };

  beforeEach(async () => {
    database = await createTestDatabase();
    // Only to migrate and give a store: no reactor runs in it.
    writer = await runTally(database.url, { roles: ['command'] });
    store = writer.tally.store;
    knex = createKnex({ url: database.url, max: 2 });
  });
  afterEach(async () => {
    for (const reactor of running.splice(0)) await reactor.stop();
    await knex?.destroy();
    await writer?.stop();
    await database?.drop();
  });

  /** A campaign, a tracked event with this document and an earning of C-1 for it: what the rule engine would have written. */
  const grant = async (campaignId: string, notifications: CampaignNotifications | undefined, eventId: string, document: JsonObject, { registered: register = true } = {}) => {
    const created: CampaignCreated = {
      type: 'CampaignCreated',
      data: { campaignId, name: 'Spring', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: now, ...(notifications ? { notifications } : {}) },
    };
    await store.appendToStream(campaignStream(campaignId), [toEventToAppend(created)], { expectedRevision: 'any' });
    const registered: EventRegistered = { type: 'EventRegistered', data: { eventId, eventType: 'purchase', occurredAt: now, document, registeredAt: now } };
    if (register) await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(registered)], { expectedRevision: 'no_stream' });
    const earningId = `earning-of-${eventId}`;
    const granted: EarningGranted = {
      type: 'EarningGranted',
      data: { earningId, eventId, campaignId, ruleId: 'r1', beneficiaryId: 'C-1', amount: 500, currency: 'EUR', grantedAt: now },
    };
    const { position } = await store.appendToStream(earningStream(earningId), [toEventToAppend(granted)], { expectedRevision: 'no_stream' });
    return { messageId: messageIdForEarning(earningId), position };
  };
  const requested = async (messageId: string): Promise<MessageRequested[]> => {
    const events: MessageRequested[] = [];
    for await (const recorded of store.readStream(messageStream(messageId))) if (recorded.type === 'MessageRequested') events.push(asDomainEvent<MessageRequested>(recorded));
    return events;
  };
  const streamOf = async (messageId: string): Promise<MessageEvent[]> => {
    const events: MessageEvent[] = [];
    for await (const recorded of store.readStream(messageStream(messageId))) events.push(asDomainEvent<MessageEvent>(recorded));
    return events;
  };
  /** Requested, then abandoned at once, with this reason. */
  const expectRefused = async (messageId: string, reason: string | RegExp) => {
    const events = await streamOf(messageId);
    expect(events.map((event) => event.type)).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
    const abandoned = events[1] as MessageAbandoned;
    expect(abandoned.data.attempts).to.equal(0);
    if (typeof reason === 'string') expect(abandoned.data.error).to.equal(reason);
    else expect(abandoned.data.error).to.match(reason);
    return events[0] as MessageRequested;
  };
  /** The reactor has handled the log up to `position` (its checkpoint moves after each request it makes). */
  const handledUpTo = (position: string) =>
    until('the checkpoint reaches the earning', async () => {
      const checkpoint = await createCheckpoints(knex).load(MESSAGE_REQUESTS_CHECKPOINT);
      return checkpoint !== undefined && isAtOrAfter(checkpoint, position);
    });

  it('asks once per earning, with the recipient resolved and the context for composition, even when the log is replayed', async () => {
    const { messageId, position } = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', prompt: 'Thank them' }, 'ev1', { merchantId: 'M-1' });
    await start();
    await handledUpTo(position);
    const [request, ...more] = await requested(messageId);
    expect(more).to.have.length(0);
    expect(request!.data).to.deep.include({ messageId, earningId: 'earning-of-ev1', campaignId: 'c1', lifecycle: 'granted', channel: 'log', recipient: 'C-1', content: { prompt: 'Thank them' }, subject: 'Spring', webhookUrl: null });
    expect(request!.data.context).to.deep.equal({
      lifecycle: 'granted',
      earning: { earningId: 'earning-of-ev1', eventId: 'ev1', campaignId: 'c1', ruleId: 'r1', beneficiaryId: 'C-1', amount: 5, currency: 'EUR', grantedAt: now },
      event: { merchantId: 'M-1', id: 'ev1', type: 'purchase', occurredAt: now },
      campaign: { id: 'c1', name: 'Spring' },
    });
    // A replay from the start (its checkpoint lost): the same message id, refused by no_stream, so still one request.
    for (const reactor of running.splice(0)) await reactor.stop();
    await knex('tally_checkpoints').where({ name: MESSAGE_REQUESTS_CHECKPOINT }).delete();
    await start();
    await handledUpTo(position);
    expect(await requested(messageId)).to.have.length(1);
  });

  it('takes the recipient from the tracked event first, asks nothing for campaigns without notifications, and abandons, visibly, an earning without a recipient', async () => {
    const fromDocument = await grant('c1', { channel: 'email', recipient: 'data.email', prompt: 'Thank them' }, 'ev1', { 'data.email': 'not-a-path' });
    const quiet = await grant('c2', undefined, 'ev2', {});
    const nested = await grant('c3', { channel: 'email', recipient: 'data.email', prompt: 'Thank them' }, 'ev3', { data: { email: 'ada@example.com' } } as never);
    await start();
    await handledUpTo(nested.position);
    // 'data.email' is a path: a top-level key with a dot in it is not `data` → `email`.
    await expectRefused(fromDocument.messageId, 'no recipient at data.email');
    expect(await streamOf(quiet.messageId)).to.have.length(0);
    const [request] = await requested(nested.messageId);
    expect(request!.data).to.include({ recipient: 'ada@example.com' });
    expect(request!.data.content).to.deep.equal({ prompt: 'Thank them' });
  });

  it('keeps only what a template names of the context, so a large tracked document is not copied', async () => {
    const { messageId, position } = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', template: 'Hi {{event.name}}, {{earning.amount}} {{earning.currency}}' }, 'ev1', {
      name: 'Ada', note: 'x'.repeat(100_000),
    });
    await start();
    await handledUpTo(position);
    const [request] = await requested(messageId);
    expect(request!.data.context).to.deep.equal({ event: { name: 'Ada' }, earning: { amount: 5, currency: 'EUR' } });
  });

  it('keeps a prompt\'s context within MESSAGE_MAX_CONTEXT_BYTES: a too large document is left out', async () => {
    const { messageId, position } = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', prompt: 'Thank them' }, 'ev1', { note: 'x'.repeat(100_000) });
    await start({ maxContextBytes: 4096 });
    await handledUpTo(position);
    const [request] = await requested(messageId);
    expect(JSON.stringify(request!.data.context).length).to.be.below(4096);
    expect(request!.data.context).to.deep.include({ event: { id: 'ev1', type: 'purchase', occurredAt: now, document: 'left out: the context was over 4096 bytes' } });
  });

  it('abandons, visibly, a recipient that is not one email address (a list, CR/LF) or too long, and the earnings after it still get theirs', async () => {
    const list = await grant('c1', { channel: 'email', recipient: 'email', template: 'Hi' }, 'ev1', { email: 'a@example.com, victim@evil.example' });
    const crlf = await grant('c2', { channel: 'email', recipient: 'email', template: 'Hi' }, 'ev2', { email: 'a@example.com\r\nBcc: victim@evil.example' });
    const semicolon = await grant('c3', { channel: 'email', recipient: 'email', template: 'Hi' }, 'ev3', { email: 'a@example.com;victim@evil.example' });
    const long = await grant('c4', { channel: 'log', recipient: 'email', template: 'Hi' }, 'ev4', { email: 'x'.repeat(10_000) });
    const fine = await grant('c5', { channel: 'email', recipient: 'email', template: 'Hi' }, 'ev5', { email: 'ada@example.com' });
    await start();
    await handledUpTo(fine.position);
    await expectRefused(list.messageId, /not one plain email address/);
    await expectRefused(crlf.messageId, /control characters/);
    await expectRefused(semicolon.messageId, /not one plain email address/);
    const refusedLong = await expectRefused(long.messageId, /longer than 320/);
    expect(refusedLong.data.recipient.length).to.be.at.most(320);
    expect((await streamOf(fine.messageId)).map((event) => event.type)).to.deep.equal(['MessageRequested']);
  });

  it('abandons, visibly, the message of an earning whose tracked event is not found', async () => {
    const { messageId, position } = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', template: 'Hi' }, 'ev-gone', {}, { registered: false });
    await start();
    await handledUpTo(position);
    await expectRefused(messageId, 'the tracked event ev-gone was not found');
  });

  it('records a MessageRequested the store refuses for its size as abandoned, small, instead of retrying it for ever', async () => {
    const limit = 4096;
    // The event store as EventStoreDB with a small MaxAppendSize: an append over the limit is refused, and nothing written.
    const limited = new Proxy(store, {
      get: (target, property, receiver) =>
        property === 'appendToStream'
          ? async (...args: Parameters<EventStore['appendToStream']>) => {
              if (JSON.stringify(args[1]).length > limit) throw new AppendTooLargeError(args[0], limit);
              return target.appendToStream(...args);
            }
          : Reflect.get(target, property, receiver),
    });
    const big = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', prompt: 'Thank them' }, 'ev1', { note: 'x'.repeat(20_000) });
    const after = await grant('c2', { channel: 'log', recipient: 'beneficiaryId', template: 'Hi' }, 'ev2', {});
    await start({ on: limited, maxContextBytes: 1_048_576 });
    await handledUpTo(after.position);
    const refused = await expectRefused(big.messageId, `MessageRequested is larger than the event store takes (at most ${limit} bytes)`);
    expect(refused.data.context).to.deep.equal({});
    expect((await streamOf(after.messageId)).map((event) => event.type)).to.deep.equal(['MessageRequested']);
  });
});
