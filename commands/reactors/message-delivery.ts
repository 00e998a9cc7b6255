import { schedule } from 'node-cron';
import type { CampaignCreated } from '../../domain/campaign/campaign-events.ts';
import { fold } from '../../domain/decider.ts';
import { isDeliverable, messageDecider, type MessageCommand, type MessageState } from '../../domain/message/message-decider.ts';
import { MESSAGE_EVENT_TYPES, messageStream, type MessageEvent } from '../../domain/message/message-events.ts';
import type { RetryPolicy } from '../../domain/message/retry-policy.ts';
import { errorText } from '../../infrastructure/error-text.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AppendTooLargeError, ConcurrencyError, isAtOrAfter, type EventMetadata, type EventStore, type RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { Channels } from '../../infrastructure/messaging/channel.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { sleep } from '../../infrastructure/sleep.ts';
import { composeMessage } from './message-composition.ts';
import type { RunningReactor } from './rule-engine.ts';
import { causedBy } from './caused-by.ts';

/** Its row on /health: it keeps no checkpoint (it folds the log from the start), so its position is the subscription's. */
export const MESSAGE_DELIVERY_SUBSCRIBER = 'reactor:message-delivery';

/** Deliveries at once: a slow webhook holds one of these, not the others. */
const MAX_IN_FLIGHT = 16;

export interface MessageDeliveryOptions {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly channels: Channels;
  /** Composes messages that have a prompt; without it they fail (and are retried) saying so. */
  readonly llm: LlmGateway | undefined;
  readonly policy: RetryPolicy;
  /** MESSAGE_MAX_BODY_BYTES: a larger composed body abandons its message; 64 KiB by default. */
  readonly maxBodyBytes?: number;
  /** node-cron expression of the checks for due retries; every second by default. Null: only `tick()`. */
  readonly cron?: string | null;
  /**
   * Shows the deliverer on /health: its position and lag in the log, and
   * `failing` when its own machinery fails (the store unreadable, an outcome
   * that cannot be recorded, the log no longer followed). A delivery that
   * fails is not that: it is a MessageFailed in the log, and retried.
   */
  readonly board?: StatusBoard;
}

export interface MessageDelivery extends RunningReactor {
  /** Starts the delivery of every message due now (requested, or failed and past its nextAttemptAt). */
  tick(): void;
  /** Resolves when no delivery is in flight. */
  idle(): Promise<void>;
}

/** A failure's text, cut short: it is recorded in MessageFailed, which must stay small whatever a channel said. */
const failureText = (error: unknown): string => {
  const text = errorText(error);
  return text.length > 2000 ? `${text.slice(0, 1999)}…` : text;
};

/** The reason of the MessageAbandoned among these events, if one is. */
const errorTextOf = (events: readonly MessageEvent[]): string | undefined => {
  const abandoned = events.find((event) => event.type === 'MessageAbandoned');
  return abandoned?.type === 'MessageAbandoned' ? abandoned.data.error : undefined;
};

/** What the deliverer appends is caused by the last event of the stream it read. */
const metadataAfter = (last: RecordedEvent): EventMetadata => causedBy(last, 'message-delivery');

/**
 * Delivers messages, at least once. It folds every message stream from the
 * start of the log, so what is due (requested, or failed with a nextAttemptAt
 * that has come) survives restarts: the due times are in the log. A node-cron
 * tick, and each new MessageRequested, start the deliveries that are due;
 * only once the fold has reached the head of the log as it was at start, so
 * that a message sent before a restart is not taken for a requested one.
 *
 * Each delivery reads its stream again, composes (a body the LLM writes is
 * recorded as MessageComposed before it is first delivered, and that body is
 * sent by every later attempt), delivers through its
 * channel, then appends MessageSent, or MessageFailed (and MessageAbandoned
 * after the last attempt), guarded by the revision it read: a second deliverer
 * that raced it is refused. A crash (or a stop) between the delivery and that
 * append leaves the message due, so it is delivered again after the restart,
 * with the same id (the webhook's Idempotency-Key, the email's Message-ID) for
 * the receiver to drop the repeat.
 */
export const startMessageDelivery = async ({ store, clock, logger, channels, llm, policy, maxBodyBytes = 65_536, cron = '* * * * * *', board }: MessageDeliveryOptions): Promise<MessageDelivery> => {
  const log = logger.child({ role: 'message-delivery' });
  const stopping = new AbortController();
  /** Messages that are not final yet, as folded from the log (and from this deliverer's own appends, at once). */
  const open = new Map<string, MessageState>();
  /** Campaigns' own webhook secrets, read from the log rather than copied into every message. */
  const secrets = new Map<string, string>();
  const inFlight = new Map<string, Promise<void>>();
  const head = await retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log');
  const subscription = store.subscribeToAll({ filter: { eventTypes: ['CampaignCreated', ...MESSAGE_EVENT_TYPES] } });
  const caughtUp = (): boolean => head === undefined || isAtOrAfter(subscription.position(), head);
  const tracker = board?.track(MESSAGE_DELIVERY_SUBSCRIBER, () => subscription.position());
  tracker?.caughtUpAt(head);
  /** What keeps failing, by message: the deliverer is well again only once none does. */
  const broken = new Map<string, unknown>();
  const broke = (messageId: string, error: unknown): void => {
    broken.set(messageId, error);
    tracker?.failing(error, undefined);
  };
  const mended = (messageId: string): void => {
    if (!broken.delete(messageId)) return;
    const [still] = broken.values();
    if (broken.size === 0) tracker?.progressed();
    else tracker?.failing(still, undefined);
  };

  const remember = (state: MessageState): void => {
    if (state.status === 'none') return;
    if (state.status === 'sent' || state.status === 'abandoned') {
      open.delete(state.request.messageId);
      // Final, whoever recorded it: nothing of it is left to fail.
      mended(state.request.messageId);
    } else open.set(state.request.messageId, state);
  };

  const apply = (recorded: RecordedEvent): void => {
    if (recorded.type === 'CampaignCreated') {
      const { campaignId, notifications } = asDomainEvent<CampaignCreated>(recorded).data;
      if (notifications?.secret) secrets.set(campaignId, notifications.secret);
      return;
    }
    const event = asDomainEvent<MessageEvent>(recorded);
    const known = open.get(event.data.messageId);
    // A final message's later events (there are none) or a sent message's echo must not reopen it.
    if (!known && event.type !== 'MessageRequested') return;
    remember(messageDecider.evolve(known ?? messageDecider.initialState(), event));
  };

  const deliver = async (messageId: string): Promise<void> => {
    const events: MessageEvent[] = [];
    let last: RecordedEvent | undefined;
    for await (const recorded of store.readStream(messageStream(messageId))) {
      events.push(asDomainEvent<MessageEvent>(recorded));
      last = recorded;
    }
    const state = fold(messageDecider, events);
    if (!last || state.status === 'none' || !isDeliverable(state, clock().toISOString())) return remember(state);
    const { request } = state;
    let current: MessageState = state;
    let revision = last.revision;
    let outcome: MessageCommand | undefined;
    let composition = state.composed;
    const abandon = (error: string): MessageCommand => ({ type: 'Abandon', data: { error, now: clock().toISOString() } });
    if (composition === null) {
      try {
        const composed = await composeMessage(request.content, request.context, llm, stopping.signal);
        if (composed.missing.length > 0) log.warn({ messageId, missing: composed.missing }, 'the template names paths the context does not have; rendered empty');
        composition = { body: composed.body, provider: composed.provider, model: composed.model, cached: composed.cached };
      } catch (error) {
        outcome = { type: 'RecordFailed', data: { error: failureText(error), policy, now: clock().toISOString() } };
      }
    }
    const bodyBytes = composition === null ? 0 : Buffer.byteLength(composition.body, 'utf8');
    if (composition !== null && bodyBytes > maxBodyBytes) {
      // The same body (recorded, or from the same template and context) would be as large on every attempt: no retry mends it.
      outcome = abandon(`the composed body is ${bodyBytes} bytes, over the ${maxBodyBytes} bytes a message may have (MESSAGE_MAX_BODY_BYTES)`);
      composition = null;
    }
    if (composition !== null && state.composed === null && 'prompt' in request.content) {
      // Recorded before the first delivery: the model would write another body next time, and a retry must send this one.
      if (stopping.signal.aborted) return;
      const recordedComposition = messageDecider.decide({ type: 'RecordComposed', data: { ...composition, now: clock().toISOString() } }, current);
      try {
        const result = await store.appendToStream(messageStream(messageId), recordedComposition.map((event) => toEventToAppend(event, metadataAfter(last))), { expectedRevision: revision });
        revision = result.nextRevision;
        current = recordedComposition.reduce(messageDecider.evolve, current);
        remember(current);
      } catch (error) {
        // Refused: another deliverer composed (or delivered) it first; the next tick reads the stream as it is now.
        if (error instanceof ConcurrencyError) return;
        if (!(error instanceof AppendTooLargeError)) throw error;
        // Not sent unrecorded (a retry would send another body): abandoned, in a small event.
        outcome = abandon(`the composed body cannot be recorded: MessageComposed is larger than the event store takes (at most ${error.maxAppendSizeBytes} bytes)`);
        composition = null;
      }
    }
    if (composition !== null) {
      try {
        await channels[request.channel](
          {
            messageId, channel: request.channel, recipient: request.recipient, body: composition.body, subject: request.subject, webhookUrl: request.webhookUrl,
            secret: request.campaignId === null ? null : (secrets.get(request.campaignId) ?? null), campaignId: request.campaignId, earningId: request.earningId,
          },
          stopping.signal,
        );
        outcome = { type: 'RecordSent', data: { ...composition, now: clock().toISOString() } };
      } catch (error) {
        outcome = { type: 'RecordFailed', data: { error: failureText(error), policy, now: clock().toISOString() } };
      }
    }
    if (outcome === undefined) return;
    // Stopping (or crashing) here, after a delivery that may have gone through, records nothing: the message
    // stays due, and is delivered again after the restart (at least once; the receiver drops the repeat by its id).
    if (stopping.signal.aborted) return;
    let decided = messageDecider.decide(outcome, current);
    const append = async (): Promise<boolean> => {
      try {
        await store.appendToStream(messageStream(messageId), decided.map((event) => toEventToAppend(event, metadataAfter(last))), { expectedRevision: revision });
        return true;
      } catch (error) {
        // Refused: another deliverer recorded this attempt first; the next tick reads the stream as it is now.
        if (error instanceof ConcurrencyError) return false;
        if (!(error instanceof AppendTooLargeError) || decided.every((event) => event.type === 'MessageAbandoned')) throw error;
        // Refused for ever, so never retried as it is: the message ends, in a small event that says why.
        const what = outcome.type === 'RecordSent' ? 'delivered, but MessageSent' : decided[0]!.type;
        decided = messageDecider.decide(abandon(`${what} is larger than the event store takes (at most ${error.maxAppendSizeBytes} bytes)`), current);
        return append();
      }
    };
    let appended: boolean;
    try {
      // An outage of the store must not lose the outcome of a delivery that happened.
      appended = await retryUntilStopped(append, stopping.signal, log, `recording the delivery of message ${messageId}`, (error) => broke(messageId, error));
    } catch (error) {
      if (stopping.signal.aborted) return;
      throw error;
    }
    if (!appended) return;
    remember(decided.reduce(messageDecider.evolve, current));
    if (outcome.type === 'RecordFailed') log.warn({ messageId, error: outcome.data.error, attempt: state.attempts + 1 }, 'message delivery failed');
    const abandonedWith = errorTextOf(decided);
    if (abandonedWith !== undefined) log.warn({ messageId, error: abandonedWith }, 'message abandoned');
  };

  const start = (messageId: string): void => {
    const delivery = deliver(messageId)
      .then(
        () => mended(messageId),
        (error: unknown) => {
          log.warn({ err: error, messageId }, 'message delivery could not run; the next tick tries again');
          // A delivery cut short by stopping is not a failure: it is due again after the restart.
          if (!stopping.signal.aborted) broke(messageId, error);
        },
      )
      .finally(() => inFlight.delete(messageId));
    inFlight.set(messageId, delivery);
  };

  const tick = (): void => {
    if (stopping.signal.aborted || !caughtUp()) return;
    const now = clock().toISOString();
    for (const [messageId, state] of open) {
      if (inFlight.size >= MAX_IN_FLIGHT) return;
      if (!inFlight.has(messageId) && isDeliverable(state, now)) start(messageId);
    }
  };

  const following = (async () => {
    for await (const recorded of subscription) {
      apply(recorded);
      // Moving on does not mend what is broken: failing stays until it is.
      if (broken.size === 0) tracker?.progressed();
      if (recorded.type === 'MessageRequested' || (head !== undefined && recorded.position === head)) tick();
    }
  })().catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    log.error({ err: error }, 'message delivery stopped following the log');
    // For good: new requests go unseen until a restart, which /health must say.
    broken.set('', error);
    tracker?.failing(error, subscription.position());
  });

  const task = cron === null ? undefined : schedule(cron, tick, { noOverlap: true, name: 'message-delivery' });
  log.info({ maxAttempts: policy.maxAttempts, retryBaseMs: policy.baseMs }, 'message delivery started');

  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all(inFlight.values());
  };
  return {
    tick,
    idle,
    async stop() {
      stopping.abort();
      await task?.destroy();
      await subscription.close();
      await following;
      await idle();
      tracker?.untrack();
      // Lets the aborted requests' sockets close before the store does.
      await sleep(0);
    },
  };
};
