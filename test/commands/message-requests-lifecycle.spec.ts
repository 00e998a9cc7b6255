import { expect } from 'chai';
import type { Knex } from 'knex';
import { composeMessage } from '../../commands/reactors/message-composition.ts';
import {
  LIFECYCLE_MESSAGES_FROM, MESSAGE_REQUESTS_CHECKPOINT, messageIdForApproval, messageIdForEarning, messageIdForReversal, startMessageRequests,
} from '../../commands/reactors/message-requests.ts';
import type { RunningReactor } from '../../commands/reactors/rule-engine.ts';
import { campaignStream, type CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import type { EarningGranted } from '../../domain/earning/earning-events.ts';
import { DEFAULT_TEMPLATES, PROMPT_STEP_NOTES } from '../../domain/message/lifecycle-wording.ts';
import { messageStream, type MessageRequested } from '../../domain/message/message-events.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { handMadeEarnings } from '../support/hand-made-earnings.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const now = '2026-03-01T10:00:00.000Z';
const later = '2026-03-04T10:00:00.000Z';

/** Issue 11: an approval or a reversal of an earning of a campaign with notifications sends a message, as a grant does. */
describe('message requests reactor: approvals and reversals', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let writer: Awaited<ReturnType<typeof runTally>>;
  let knex: Knex;
  let store: EventStore;
  let earnings: ReturnType<typeof handMadeEarnings>;
  const running: RunningReactor[] = [];
  const start = async () => {
    const reactor = await startMessageRequests({ store, checkpoints: createCheckpoints(knex), clock: () => new Date(later), logger: silentLogger, onFatal: (error) => expect.fail(String(error)), maxContextBytes: 16_384 });
    running.push(reactor);
    return reactor;
  };
  const stopAll = async () => {
    for (const reactor of running.splice(0)) await reactor.stop();
  };

  beforeEach(async () => {
    database = await createTestDatabase();
    // Only to migrate and give a store: no reactor runs in it.
    writer = await runTally(database.url, { roles: ['command'] });
    store = writer.tally.store;
    earnings = handMadeEarnings(store);
    knex = createKnex({ url: database.url, max: 2 });
  });
  afterEach(async () => {
    await stopAll();
    await knex?.destroy();
    await writer?.stop();
    await database?.drop();
  });

  const campaign = async (campaignId: string, notifications: CampaignNotifications | undefined): Promise<void> => {
    const created: CampaignCreated = {
      type: 'CampaignCreated',
      data: { campaignId, name: 'Spring', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: now, holdDays: 3, ...(notifications ? { notifications } : {}) },
    };
    await store.appendToStream(campaignStream(campaignId), [toEventToAppend(created)], { expectedRevision: 'no_stream' });
  };
  /** A purchase by C-1 and its earning, held three days: what the rule engine would have written. */
  const granted = async (campaignId: string, eventId: string, amount = 500): Promise<EarningGranted['data']> => {
    const registered: EventRegistered = { type: 'EventRegistered', data: { eventId, eventType: 'purchase', occurredAt: now, document: { customerId: 'C-1' }, registeredAt: now } };
    await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(registered)], { expectedRevision: 'no_stream' });
    const grant = { earningId: `earning-of-${eventId}`, eventId, campaignId, ruleId: 'r1', beneficiaryId: 'C-1', amount, currency: 'EUR', grantedAt: now, approvesAt: later };
    await earnings.grant(grant);
    return grant;
  };
  const requested = async (messageId: string): Promise<MessageRequested[]> => {
    const events: MessageRequested[] = [];
    for await (const recorded of store.readStream(messageStream(messageId))) if (recorded.type === 'MessageRequested') events.push(asDomainEvent<MessageRequested>(recorded));
    return events;
  };
  const theOne = async (messageId: string): Promise<MessageRequested['data']> => {
    const [request, ...more] = await requested(messageId);
    expect(request, `message ${messageId} requested`).to.not.equal(undefined);
    expect(more).to.have.length(0);
    return request!.data;
  };
  /** The body a template message will have: what the deliverer renders from the request alone. */
  const body = async (request: MessageRequested['data']): Promise<string> => {
    const composed = await composeMessage(request.content, request.context, undefined, new AbortController().signal);
    expect(composed.missing, 'placeholders the context lacks').to.deep.equal([]);
    return composed.body;
  };
  const handledUpTo = (position: string) =>
    until('the checkpoint reaches the position', async () => {
      const checkpoint = await createCheckpoints(knex).load(MESSAGE_REQUESTS_CHECKPOINT);
      return checkpoint !== undefined && isAtOrAfter(checkpoint, position);
    });
  const allRequests = async (): Promise<number> => {
    let count = 0;
    for await (const recorded of store.readAll()) if (recorded.type === 'MessageRequested') count++;
    return count;
  };

  it('asks for a message when a held earning is approved, under its own id, in default words after a template; the grant keeps its id', async () => {
    await campaign('c1', { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}} {{earning.currency}}' });
    await campaign('quiet', undefined);
    const grant = await granted('c1', 'ev1');
    const quiet = await granted('quiet', 'ev2');
    await earnings.approve(quiet.earningId, later);
    const position = await earnings.approve(grant.earningId, later);
    await start();
    await handledUpTo(position);

    // The grant's id is derived as it always was: messages already requested are never asked for again under another id.
    expect(messageIdForEarning('earning-of-ev1')).to.equal('130dee88-62ee-5339-9a26-8c82757109ad');
    const onGrant = await theOne(messageIdForEarning(grant.earningId));
    expect(onGrant.lifecycle).to.equal('granted');
    expect(await body(onGrant)).to.equal('You earned 5 EUR');

    const approvalId = messageIdForApproval(grant.earningId);
    expect(approvalId).to.not.equal(messageIdForEarning(grant.earningId));
    const onApproval = await theOne(approvalId);
    expect(onApproval).to.deep.include({ messageId: approvalId, earningId: grant.earningId, campaignId: 'c1', lifecycle: 'approved', recipient: 'C-1', subject: 'Spring', content: { template: DEFAULT_TEMPLATES.approved } });
    expect(await body(onApproval)).to.equal('Your reward of 5 EUR from Spring is approved.');

    // A campaign without notifications: neither its grant nor its approval is told.
    expect(await requested(messageIdForEarning(quiet.earningId))).to.have.length(0);
    expect(await requested(messageIdForApproval(quiet.earningId))).to.have.length(0);
    expect(await allRequests()).to.equal(2);
  });

  it('tells, after an upgrade, only the approvals and reversals that come after it: those in the log are history', async () => {
    await campaign('c1', { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}} {{earning.currency}}' });
    const old = await granted('c1', 'ev-old');
    const fresh = await granted('c1', 'ev-new');
    // The version before told grants only, and had told these two.
    await createCheckpoints(knex).save(MESSAGE_REQUESTS_CHECKPOINT, await earnings.approve(old.earningId, later));
    await earnings.reverse(old, 'refund-old', 100, 400, later);
    await start();
    const position = await earnings.approve(fresh.earningId, later);
    await handledUpTo(position);
    expect(await requested(messageIdForApproval(old.earningId))).to.have.length(0);
    expect(await requested(messageIdForReversal(old.earningId, 'refund-old'))).to.have.length(0);
    expect(await requested(messageIdForApproval(fresh.earningId))).to.have.length(1);
    // And a restart keeps where that began: what came after it is told, once.
    await stopAll();
    const after = await earnings.reverse(fresh, 'refund-new', 100, 400, later);
    await start();
    await handledUpTo(after);
    expect(await requested(messageIdForReversal(fresh.earningId, 'refund-new'))).to.have.length(1);
    expect(await createCheckpoints(knex).load(LIFECYCLE_MESSAGES_FROM)).to.not.equal('');
  });

  it('asks for one message per reversal: two partial refunds make two messages, and the one that leaves nothing says so', async () => {
    await campaign('c1', { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}} {{earning.currency}}' });
    await campaign('quiet', undefined);
    const grant = await granted('c1', 'ev1', 1000);
    const quiet = await granted('quiet', 'ev2', 1000);
    await earnings.reverse(quiet, 'refund-q', 1000, 0, later);
    await earnings.reverse(grant, 'refund-1', 250, 750, later, 'refund refund-1 of 25% of the purchase');
    const position = await earnings.reverse(grant, 'refund-2', 750, 0, later, 'refund refund-2 of the rest');
    await start();
    await handledUpTo(position);

    const first = await theOne(messageIdForReversal(grant.earningId, 'refund-1'));
    const second = await theOne(messageIdForReversal(grant.earningId, 'refund-2'));
    expect(first.messageId).to.not.equal(second.messageId);
    expect(first).to.deep.include({ lifecycle: 'reversed', earningId: grant.earningId, content: { template: DEFAULT_TEMPLATES.reversed } });
    expect(await body(first)).to.equal('2.5 EUR of your reward from Spring was reversed (refund refund-1 of 25% of the purchase); 7.5 EUR remains.');
    expect(second).to.deep.include({ lifecycle: 'reversed', content: { template: DEFAULT_TEMPLATES.reversedInFull } });
    expect(await body(second)).to.equal('Your reward of 7.5 EUR from Spring was reversed (refund refund-2 of the rest).');
    expect(await requested(messageIdForReversal(quiet.earningId, 'refund-q'))).to.have.length(0);
    // The grant's own message, and the two reversals': nothing for the quiet campaign.
    expect(await allRequests()).to.equal(3);
  });

  it('words approvals and reversals as the campaign asks: its own template, prompt and subject; a main prompt is told which step it writes about', async () => {
    await campaign('worded', {
      channel: 'email', recipient: 'email', template: 'You earned {{earning.amount}}', subject: 'Your reward',
      onApproved: { template: 'Approved: {{approval.amount}} {{earning.currency}} on {{approval.approvedAt}} ({{lifecycle}})', subject: 'Approved!' },
      onReversed: { prompt: 'Tell them gently' },
    });
    await campaign('prompted', { channel: 'log', recipient: 'customerId', prompt: 'Thank them' });
    const registered: EventRegistered = { type: 'EventRegistered', data: { eventId: 'ev1', eventType: 'purchase', occurredAt: now, document: { email: 'ada@example.com' }, registeredAt: now } };
    await store.appendToStream(trackedEventStream('ev1'), [toEventToAppend(registered)], { expectedRevision: 'no_stream' });
    const worded = { earningId: 'earning-of-ev1', eventId: 'ev1', campaignId: 'worded', ruleId: 'r1', beneficiaryId: 'C-1', amount: 500, currency: 'EUR', grantedAt: now, approvesAt: later };
    await earnings.grant(worded);
    const prompted = await granted('prompted', 'ev2');
    await earnings.approve(worded.earningId, later);
    await earnings.reverse(worded, 'refund-1', 100, 400, later);
    await earnings.approve(prompted.earningId, later);
    const position = await earnings.reverse(prompted, 'refund-2', 500, 0, later);
    await start();
    await handledUpTo(position);

    const approved = await theOne(messageIdForApproval(worded.earningId));
    expect(approved).to.deep.include({ recipient: 'ada@example.com', subject: 'Approved!' });
    expect(await body(approved)).to.equal(`Approved: 5 EUR on ${later} (approved)`);
    const reversed = await theOne(messageIdForReversal(worded.earningId, 'refund-1'));
    // No subject of its own: the main one.
    expect(reversed).to.deep.include({ subject: 'Your reward', content: { prompt: 'Tell them gently' } });
    expect(reversed.context).to.deep.include({ lifecycle: 'reversed', reversal: { amount: 1, remaining: 4, reason: 'refund refund-1', refundEventId: 'refund-1', reversedAt: later } });
    expect(reversed.context).to.have.property('earning').that.deep.include({ amount: 5, currency: 'EUR' });

    const promptedApproval = await theOne(messageIdForApproval(prompted.earningId));
    expect(promptedApproval.content).to.deep.equal({ prompt: `Thank them\n\n${PROMPT_STEP_NOTES.approved}` });
    expect(promptedApproval.context).to.deep.include({ lifecycle: 'approved', approval: { amount: 5, approvedAt: later } });
    const promptedReversal = await theOne(messageIdForReversal(prompted.earningId, 'refund-2'));
    expect(promptedReversal.content).to.deep.equal({ prompt: `Thank them\n\n${PROMPT_STEP_NOTES.reversed}` });
    expect(promptedReversal.context).to.deep.include({ lifecycle: 'reversed' });
  });

  it('approves, in the message, what reversals before the approval left of the earning', async () => {
    await campaign('c1', { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}' });
    const grant = await granted('c1', 'ev1');
    await earnings.reverse(grant, 'refund-1', 200, 300, now);
    const position = await earnings.approve(grant.earningId, later);
    // A reversal after the approval does not change what the approval said.
    await earnings.reverse(grant, 'refund-2', 100, 200, later);
    await start();
    await handledUpTo(position);
    expect(await body(await theOne(messageIdForApproval(grant.earningId)))).to.equal('Your reward of 3 EUR from Spring is approved.');
  });

  it('never asks twice across restarts: an earning held before a restart gets its approval message after it, and a lost checkpoint asks for nothing new', async () => {
    await campaign('c1', { channel: 'log', recipient: 'customerId', template: 'You earned {{earning.amount}}' });
    const before = await granted('c1', 'ev1');
    await earnings.approve(before.earningId, later);
    await earnings.reverse(before, 'refund-1', 100, 400, later);
    const stillHeld = await granted('c1', 'ev2');
    await start();
    await handledUpTo(await earnings.reverse(before, 'refund-2', 100, 300, later));
    expect(await allRequests()).to.equal(5);
    await stopAll();

    // Its grant was handled (and passed by the checkpoint) before the restart: the fold from the start still knows it is held.
    const position = await earnings.approve(stillHeld.earningId, later);
    await start();
    await handledUpTo(position);
    await theOne(messageIdForApproval(stillHeld.earningId));
    expect(await allRequests()).to.equal(6);
    await stopAll();

    // A replay from the start (its checkpoint lost): every step asks again under the same id, refused by no_stream.
    await knex('tally_checkpoints').where({ name: MESSAGE_REQUESTS_CHECKPOINT }).delete();
    await start();
    await handledUpTo(position);
    expect(await allRequests()).to.equal(6);
    for (const id of [
      messageIdForEarning(before.earningId), messageIdForApproval(before.earningId), messageIdForReversal(before.earningId, 'refund-1'),
      messageIdForReversal(before.earningId, 'refund-2'), messageIdForEarning(stillHeld.earningId), messageIdForApproval(stillHeld.earningId),
    ]) await theOne(id);
  });
});
