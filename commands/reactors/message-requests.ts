import type { CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import { fold } from '../../domain/decider.ts';
import { earningDecider, type EarningState } from '../../domain/earning/earning-decider.ts';
import { earningStream, type EarningApproved, type EarningEvent, type EarningGranted, type EarningReversed } from '../../domain/earning/earning-events.ts';
import { approvedOnGrant } from '../../domain/earning/hold.ts';
import type { JsonValue } from '../../domain/json.ts';
import { boundedContext } from '../../domain/message/composition-context.ts';
import { earningMessageContext } from '../../domain/message/earning-message-context.ts';
import type { EarningStep } from '../../domain/message/earning-step.ts';
import { wordingFor } from '../../domain/message/lifecycle-wording.ts';
import { messageDecider, type MessageCommand } from '../../domain/message/message-decider.ts';
import { messageStream } from '../../domain/message/message-events.ts';
import { recipientProblem, shownRecipient } from '../../domain/message/recipient.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { valueAt } from '../../domain/rules/document-path.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AppendTooLargeError, ConcurrencyError, isAtOrAfter, type EventStore, type RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../../infrastructure/event-store/handled-position.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { messageIdForStep } from './earning-message-ids.ts';
import { handleEachInTurn } from './handle-each-in-turn.ts';
import type { RunningReactor } from './rule-engine.ts';
import { causedBy } from './caused-by.ts';

export { messageIdForApproval, messageIdForEarning, messageIdForReversal } from './earning-message-ids.ts';

export const MESSAGE_REQUESTS_CHECKPOINT = 'reactor:message-requests';

/**
 * Where approvals and reversals began to have messages, in this database: ''
 * (all of them) when the reactor first ran with them on a log it had not
 * worked on yet; the head of the log then when it had, before (an upgrade):
 * approvals and reversals already in the log are history, not news to send
 * to customers long after.
 */
export const LIFECYCLE_MESSAGES_FROM = 'reactor:message-requests:lifecycle-from';

export interface MessageRequestsOptions {
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly board?: StatusBoard;
  readonly onFatal: (error: unknown) => void;
  /** MESSAGE_MAX_CONTEXT_BYTES: what MessageRequested keeps for composition, at most. */
  readonly maxContextBytes: number;
}

interface NotifyingCampaign {
  readonly name: string;
  readonly notifications: CampaignNotifications;
}

const asAddress = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : typeof value === 'number' ? String(value) : undefined;

/**
 * Turns each EarningGranted of a campaign with notifications into a
 * MessageRequested on `message-{id}`, and so each EarningApproved and each
 * EarningReversed of such an earning (issue 11), each step under its own
 * message id; appended with `no_stream` so a repeat (a restart before the
 * checkpoint moved, a replay) is refused and harmless.
 *
 * The campaigns' notifications are folded from the log. An approval names its
 * earning only: rather than keep every grant in memory (the fold starts at the
 * beginning of the log, so that would be every grant ever made), the reactor
 * keeps the ids of held earnings of notifying campaigns until their approval
 * (bounded by what is on hold now, and rebuilt by the fold after a restart),
 * and reads the earning's stream, a few events, when one is approved. A
 * reversal names its campaign, so only a notifying one costs that read. The
 * tracked event's document, which the recipient path and the context need,
 * is read from its stream.
 */
export const startMessageRequests = async ({ store, checkpoints, clock, logger, board, onFatal, maxContextBytes }: MessageRequestsOptions): Promise<RunningReactor> => {
  const log = logger.child({ role: 'message-requests' });
  const checkpoint = await checkpoints.load(MESSAGE_REQUESTS_CHECKPOINT);
  let lifecycleFrom = await checkpoints.load(LIFECYCLE_MESSAGES_FROM);
  if (lifecycleFrom === undefined) {
    lifecycleFrom = checkpoint === undefined ? '' : ((await store.headPosition()) ?? '');
    await checkpoints.save(LIFECYCLE_MESSAGES_FROM, lifecycleFrom);
    if (lifecycleFrom !== '') log.info({ lifecycleFrom }, 'approvals and reversals now have messages: those already in the log are not told');
  }
  /** An approval or a reversal from before this version told them (see LIFECYCLE_MESSAGES_FROM). */
  const history = (recorded: RecordedEvent): boolean => recorded.type !== 'EarningGranted' && lifecycleFrom !== '' && isAtOrAfter(lifecycleFrom, recorded.position);
  const stopping = new AbortController();
  // From the start: campaigns and held earnings are folded from the whole log; what the checkpoint covers is only folded.
  const subscription = store.subscribeToAll({ filter: { eventTypes: ['CampaignCreated', 'EarningGranted', 'EarningApproved', 'EarningReversed'] } });
  const progress = trackHandled(subscription, undefined);
  const tracker = board?.track(MESSAGE_REQUESTS_CHECKPOINT, () => {
    const position = progress.position();
    return checkpoint !== undefined && !isAtOrAfter(position, checkpoint) ? checkpoint : position;
  });
  void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);
  const campaigns = new Map<string, NotifyingCampaign>();
  /** Earnings of notifying campaigns granted with a hold, until their EarningApproved (or a reversal in full: then none comes), with their campaign (shared, not copied). */
  const held = new Map<string, NotifyingCampaign>();

  const registered = async (eventId: string): Promise<EventRegistered['data'] | undefined> => {
    for await (const recorded of store.readStream(trackedEventStream(eventId), { maxCount: 1 })) {
      if (recorded.type === 'EventRegistered') return asDomainEvent<EventRegistered>(recorded).data;
    }
    return undefined;
  };

  /** The earning as it stood just before `revision` of its stream: what an approval approves is what earlier reversals left. */
  const earningBefore = async (earningId: string, revision: bigint): Promise<EarningState> => {
    const events: EarningEvent[] = [];
    for await (const recorded of store.readStream(earningStream(earningId), { maxCount: Number(revision) })) {
      if (recorded.revision >= revision) break;
      events.push(asDomainEvent<EarningEvent>(recorded));
    }
    return fold(earningDecider, events);
  };

  const request = async (recorded: RecordedEvent, grant: EarningGranted['data'], step: EarningStep, campaign: NotifyingCampaign): Promise<void> => {
    const tracked = await registered(grant.eventId);
    const { notifications } = campaign;
    const { content, subject } = wordingFor(notifications, step);
    const { earning, full } = earningMessageContext(grant, step, tracked, campaign.name);
    // The path names a field of the tracked event; a field of the earning (beneficiaryId) when the event has none.
    const resolved = asAddress(valueAt(tracked?.document ?? {}, notifications.recipient)) ?? asAddress(valueAt(earning, notifications.recipient));
    const bounded = boundedContext(content, full, maxContextBytes);
    // What cannot be sent is still requested, and abandoned at once with why, so that it shows in the log and in GET /messages.
    const reason =
      tracked === undefined ? `the tracked event ${grant.eventId} was not found`
      : resolved === undefined ? `no recipient at ${notifications.recipient}`
      : (recipientProblem(notifications.channel, resolved) ?? (bounded.ok ? undefined : bounded.reason));
    const { earningId } = grant;
    const messageId = messageIdForStep(earningId, step);
    const request = {
      messageId, earningId, campaignId: grant.campaignId, lifecycle: step.lifecycle, channel: notifications.channel,
      recipient: reason === undefined ? resolved! : shownRecipient(resolved ?? ''), content,
      subject: subject ?? campaign.name, webhookUrl: notifications.webhookUrl ?? null,
      context: reason === undefined && bounded.ok ? bounded.context : {}, now: clock().toISOString(),
    };
    const metadata = causedBy(recorded, 'message-requests');
    const append = async (command: MessageCommand): Promise<void> => {
      const events = messageDecider.decide(command, messageDecider.initialState());
      await store.appendToStream(messageStream(messageId), events.map((event) => toEventToAppend(event, metadata)), { expectedRevision: 'no_stream' });
    };
    const about = { earningId, campaignId: grant.campaignId, lifecycle: step.lifecycle, messageId };
    if (reason !== undefined) log.warn({ ...about, reason }, 'message abandoned as requested');
    try {
      if (reason !== undefined) await append({ type: 'RefuseMessage', data: { ...request, reason } });
      else {
        try {
          await append({ type: 'RequestMessage', data: request });
        } catch (error) {
          if (!(error instanceof AppendTooLargeError)) throw error;
          // Never retried (it would be refused for ever): recorded small, without its context, and abandoned.
          const tooLarge = `MessageRequested is larger than the event store takes (at most ${error.maxAppendSizeBytes} bytes)`;
          log.warn({ ...about, reason: tooLarge }, 'message abandoned as requested');
          await append({ type: 'RefuseMessage', data: { ...request, context: {}, reason: tooLarge } });
        }
      }
    } catch (error) {
      // Requested already, by an earlier run whose checkpoint did not cover it.
      if (error instanceof ConcurrencyError) return;
      // Even the small record does not fit (a template at the store's limit): said, and passed, so the earnings after it still get theirs.
      if (error instanceof AppendTooLargeError) return void log.error({ err: error, ...about }, 'the message of this earning cannot be recorded at all');
      throw error;
    }
  };

  /** The grant of an earning and the step `recorded` is, read from the earning's stream; undefined when there is nothing to say. */
  const stepFromStream = async (recorded: RecordedEvent): Promise<{ grant: EarningGranted['data']; step: EarningStep } | undefined> => {
    const event = asDomainEvent<EarningApproved | EarningReversed>(recorded);
    const before = await earningBefore(event.data.earningId, recorded.revision);
    if (before.status === 'none') {
      log.error({ earningId: event.data.earningId, type: recorded.type }, 'no grant before this step of the earning; no message for it');
      return undefined;
    }
    const { grant } = before;
    if (event.type === 'EarningReversed') return { grant, step: { lifecycle: 'reversed', reversal: event.data } };
    const amount = grant.amount - before.reversed;
    // Nothing left to approve (the decider approves no earning reversed in full): no good news to give.
    return amount > 0 ? { grant, step: { lifecycle: 'approved', amount, approvedAt: event.data.approvedAt } } : undefined;
  };

  /** The campaign, when this step of the earning is to be told and not covered by the checkpoint; folds `held` on the way. */
  const notifyingCampaignOf = (recorded: RecordedEvent): NotifyingCampaign | undefined => {
    let campaign: NotifyingCampaign | undefined;
    if (recorded.type === 'EarningGranted') {
      const grant = asDomainEvent<EarningGranted>(recorded).data;
      campaign = campaigns.get(grant.campaignId);
      if (campaign && !approvedOnGrant(grant)) held.set(grant.earningId, campaign);
    } else if (recorded.type === 'EarningApproved') {
      const { earningId } = asDomainEvent<EarningApproved>(recorded).data;
      // Only held earnings of notifying campaigns are in `held`: any other approval is none of this reactor's business.
      campaign = held.get(earningId);
      held.delete(earningId);
    } else {
      const reversal = asDomainEvent<EarningReversed>(recorded).data;
      campaign = campaigns.get(reversal.campaignId);
      if (reversal.remaining <= 0) held.delete(reversal.earningId);
    }
    return campaign && !(checkpoint !== undefined && isAtOrAfter(checkpoint, recorded.position)) && !history(recorded) ? campaign : undefined;
  };

  const handle = async (recorded: RecordedEvent): Promise<void> => {
    if (recorded.type === 'CampaignCreated') {
      const { campaignId, name, notifications } = asDomainEvent<CampaignCreated>(recorded).data;
      if (notifications) campaigns.set(campaignId, { name, notifications });
      return;
    }
    const campaign = notifyingCampaignOf(recorded);
    if (!campaign) return;
    const failing = (error: unknown) => tracker?.failing(error, recorded.position);
    const work = async (): Promise<void> => {
      const about = recorded.type === 'EarningGranted' ? { grant: asDomainEvent<EarningGranted>(recorded).data, step: { lifecycle: 'granted' } as const } : await stepFromStream(recorded);
      if (about) await request(recorded, about.grant, about.step, campaign);
    };
    await retryUntilStopped(work, stopping.signal, log, `requesting the message of ${recorded.type} ${recorded.streamId}`, failing);
    await retryUntilStopped(() => checkpoints.save(MESSAGE_REQUESTS_CHECKPOINT, recorded.position), stopping.signal, log, 'saving the checkpoint', failing);
  };

  const running = handleEachInTurn({ progress, tracker, handle, stopping: stopping.signal, log, onFatal });
  log.info({ checkpoint }, 'message requests started');
  return {
    stop: async () => {
      stopping.abort();
      await subscription.close();
      await running;
      tracker?.untrack();
    },
  };
};
