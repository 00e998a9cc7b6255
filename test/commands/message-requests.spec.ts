import { expect } from 'chai';
import type { Knex } from 'knex';
import { MESSAGE_REQUESTS_CHECKPOINT, messageIdForEarning, startMessageRequests } from '../../commands/reactors/message-requests.ts';
import type { RunningReactor } from '../../commands/reactors/rule-engine.ts';
import { campaignStream, type CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import { earningStream, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { messageStream, type MessageRequested } from '../../domain/message/message-events.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventStore } from '../../infrastructure/event-store/event-store.ts';
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
  const start = async () => {
    const reactor = await startMessageRequests({ store, checkpoints: createCheckpoints(knex), clock: () => new Date(now), logger: silentLogger, onFatal: (error) => expect.fail(String(error)) });
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
  const grant = async (campaignId: string, notifications: CampaignNotifications | undefined, eventId: string, document: Record<string, string>) => {
    const created: CampaignCreated = {
      type: 'CampaignCreated',
      data: { campaignId, name: 'Spring', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: now, ...(notifications ? { notifications } : {}) },
    };
    await store.appendToStream(campaignStream(campaignId), [toEventToAppend(created)], { expectedRevision: 'any' });
    const registered: EventRegistered = { type: 'EventRegistered', data: { eventId, eventType: 'purchase', occurredAt: now, document, registeredAt: now } };
    await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(registered)], { expectedRevision: 'no_stream' });
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
    for await (const recorded of store.readStream(messageStream(messageId))) events.push(asDomainEvent<MessageRequested>(recorded));
    return events;
  };
  /** The reactor has handled the log up to `position` (its checkpoint moves after each request it makes). */
  const handledUpTo = (position: string) =>
    until('the checkpoint reaches the earning', async () => {
      const checkpoint = await createCheckpoints(knex).load(MESSAGE_REQUESTS_CHECKPOINT);
      return checkpoint !== undefined && isAtOrAfter(checkpoint, position);
    });

  it('asks once per earning, with the recipient resolved and the context for composition, even when the log is replayed', async () => {
    const { messageId, position } = await grant('c1', { channel: 'log', recipient: 'beneficiaryId', template: 'Hi {{event.data.name}}' }, 'ev1', { merchantId: 'M-1' });
    await start();
    await handledUpTo(position);
    const [request, ...more] = await requested(messageId);
    expect(more).to.have.length(0);
    expect(request!.data).to.deep.include({ messageId, earningId: 'earning-of-ev1', campaignId: 'c1', channel: 'log', recipient: 'C-1', content: { template: 'Hi {{event.data.name}}' }, subject: 'Spring', webhookUrl: null });
    expect(request!.data.context).to.deep.equal({
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

  it('takes the recipient from the tracked event first, asks nothing for campaigns without notifications or earnings without a recipient', async () => {
    const fromDocument = await grant('c1', { channel: 'email', recipient: 'data.email', prompt: 'Thank them' }, 'ev1', { 'data.email': 'not-a-path' });
    const quiet = await grant('c2', undefined, 'ev2', {});
    const nested = await grant('c3', { channel: 'email', recipient: 'data.email', prompt: 'Thank them' }, 'ev3', { data: { email: 'ada@example.com' } } as never);
    await start();
    await handledUpTo(nested.position);
    // 'data.email' is a path: a top-level key with a dot in it is not `data` → `email`.
    expect(await requested(fromDocument.messageId)).to.have.length(0);
    expect(await requested(quiet.messageId)).to.have.length(0);
    const [request] = await requested(nested.messageId);
    expect(request!.data).to.include({ recipient: 'ada@example.com' });
    expect(request!.data.content).to.deep.equal({ prompt: 'Thank them' });
  });
});
