import { v5 as uuidv5 } from 'uuid';
import type { CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import type { EarningGranted } from '../../domain/earning/earning-events.ts';
import type { JsonObject, JsonValue } from '../../domain/json.ts';
import { boundedContext } from '../../domain/message/composition-context.ts';
import { messageDecider, type MessageCommand } from '../../domain/message/message-decider.ts';
import { messageStream, type MessageContent } from '../../domain/message/message-events.ts';
import { recipientProblem, shownRecipient } from '../../domain/message/recipient.ts';
import type { CampaignNotifications } from '../../domain/message/notifications.ts';
import { toMajor } from '../../domain/money.ts';
import { valueAt } from '../../domain/rules/document-path.ts';
import { trackedEventStream, type EventRegistered } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AppendTooLargeError, ConcurrencyError, isAtOrAfter, type EventStore, type RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../../infrastructure/event-store/handled-position.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { handleEachInTurn } from './handle-each-in-turn.ts';
import type { RunningReactor } from './rule-engine.ts';
import { causedBy } from './caused-by.ts';

export const MESSAGE_REQUESTS_CHECKPOINT = 'reactor:message-requests';

/** Message ids derive from the earning, so a replay (or a second requester) asks for the same message, once. */
const MESSAGE_NAMESPACE = '3b2f6a4e-8c1d-4f7a-9e25-5d0c7b1a9f43';

export const messageIdForEarning = (earningId: string): string => uuidv5(earningId, MESSAGE_NAMESPACE);

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
 * MessageRequested on `message-{id}`, appended with `no_stream` so a repeat
 * (a restart before the checkpoint moved, a replay) is refused and harmless.
 * The campaigns' notifications are folded from the log; the tracked event's
 * document, which the recipient path and the context need, is read from its stream.
 */
export const startMessageRequests = async ({ store, checkpoints, clock, logger, board, onFatal, maxContextBytes }: MessageRequestsOptions): Promise<RunningReactor> => {
  const log = logger.child({ role: 'message-requests' });
  const checkpoint = await checkpoints.load(MESSAGE_REQUESTS_CHECKPOINT);
  const stopping = new AbortController();
  // From the start: the campaigns are folded from the whole log; what the checkpoint covers is only folded.
  const subscription = store.subscribeToAll({ filter: { eventTypes: ['CampaignCreated', 'EarningGranted'] } });
  const progress = trackHandled(subscription, undefined);
  const tracker = board?.track(MESSAGE_REQUESTS_CHECKPOINT, () => {
    const position = progress.position();
    return checkpoint !== undefined && !isAtOrAfter(position, checkpoint) ? checkpoint : position;
  });
  void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);
  const campaigns = new Map<string, NotifyingCampaign>();

  const registered = async (eventId: string): Promise<EventRegistered['data'] | undefined> => {
    for await (const recorded of store.readStream(trackedEventStream(eventId), { maxCount: 1 })) {
      if (recorded.type === 'EventRegistered') return asDomainEvent<EventRegistered>(recorded).data;
    }
    return undefined;
  };

  const request = async (recorded: RecordedEvent, earning: EarningGranted['data'], campaign: NotifyingCampaign): Promise<void> => {
    const tracked = await registered(earning.eventId);
    const document: JsonObject = tracked?.document ?? {};
    const earningView = {
      earningId: earning.earningId, eventId: earning.eventId, campaignId: earning.campaignId, ruleId: earning.ruleId,
      beneficiaryId: earning.beneficiaryId, amount: toMajor(earning.amount, earning.currency), currency: earning.currency, grantedAt: earning.grantedAt,
    };
    const { notifications } = campaign;
    const content: MessageContent = notifications.template !== undefined ? { template: notifications.template } : { prompt: notifications.prompt! };
    // The path names a field of the tracked event; a field of the earning (beneficiaryId) when the event has none.
    const resolved = asAddress(valueAt(document, notifications.recipient)) ?? asAddress(valueAt(earningView, notifications.recipient));
    const full: JsonObject = {
      earning: earningView,
      event: { ...document, id: earning.eventId, type: tracked?.eventType ?? null, occurredAt: tracked?.occurredAt ?? null },
      campaign: { id: earning.campaignId, name: campaign.name },
    };
    const bounded = boundedContext(content, full, maxContextBytes);
    // What cannot be sent is still requested, and abandoned at once with why, so that it shows in the log and in GET /messages.
    const reason =
      tracked === undefined ? `the tracked event ${earning.eventId} was not found`
      : resolved === undefined ? `no recipient at ${notifications.recipient}`
      : (recipientProblem(notifications.channel, resolved) ?? (bounded.ok ? undefined : bounded.reason));
    const messageId = messageIdForEarning(earning.earningId);
    const request = {
      messageId, earningId: earning.earningId, campaignId: earning.campaignId, channel: notifications.channel,
      recipient: reason === undefined ? resolved! : shownRecipient(resolved ?? ''), content,
      subject: notifications.subject ?? campaign.name, webhookUrl: notifications.webhookUrl ?? null,
      context: reason === undefined && bounded.ok ? bounded.context : {}, now: clock().toISOString(),
    };
    const metadata = causedBy(recorded, 'message-requests');
    const append = async (command: MessageCommand): Promise<void> => {
      const events = messageDecider.decide(command, messageDecider.initialState());
      await store.appendToStream(messageStream(messageId), events.map((event) => toEventToAppend(event, metadata)), { expectedRevision: 'no_stream' });
    };
    if (reason !== undefined) log.warn({ earningId: earning.earningId, campaignId: earning.campaignId, messageId, reason }, 'message abandoned as requested');
    try {
      if (reason !== undefined) await append({ type: 'RefuseMessage', data: { ...request, reason } });
      else {
        try {
          await append({ type: 'RequestMessage', data: request });
        } catch (error) {
          if (!(error instanceof AppendTooLargeError)) throw error;
          // Never retried (it would be refused for ever): recorded small, without its context, and abandoned.
          const tooLarge = `MessageRequested is larger than the event store takes (at most ${error.maxAppendSizeBytes} bytes)`;
          log.warn({ earningId: earning.earningId, messageId, reason: tooLarge }, 'message abandoned as requested');
          await append({ type: 'RefuseMessage', data: { ...request, context: {}, reason: tooLarge } });
        }
      }
    } catch (error) {
      // Requested already, by an earlier run whose checkpoint did not cover it.
      if (error instanceof ConcurrencyError) return;
      // Even the small record does not fit (a template at the store's limit): said, and passed, so the earnings after it still get theirs.
      if (error instanceof AppendTooLargeError) return void log.error({ err: error, earningId: earning.earningId, messageId }, 'the message of this earning cannot be recorded at all');
      throw error;
    }
  };

  const handle = async (recorded: RecordedEvent): Promise<void> => {
    if (recorded.type === 'CampaignCreated') {
      const { campaignId, name, notifications } = asDomainEvent<CampaignCreated>(recorded).data;
      if (notifications) campaigns.set(campaignId, { name, notifications });
      return;
    }
    const earning = asDomainEvent<EarningGranted>(recorded).data;
    const campaign = campaigns.get(earning.campaignId);
    if (!campaign || (checkpoint !== undefined && isAtOrAfter(checkpoint, recorded.position))) return;
    const failing = (error: unknown) => tracker?.failing(error, recorded.position);
    await retryUntilStopped(() => request(recorded, earning, campaign), stopping.signal, log, `requesting the message of earning ${earning.earningId}`, failing);
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
