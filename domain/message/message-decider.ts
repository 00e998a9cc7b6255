import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import type { Composition, MessageEvent, MessageRequested } from './message-events.ts';
import { CREDENTIALS_REFUSED, hasCredentials, isHttpUrl } from './notifications.ts';
import { recipientProblem } from './recipient.ts';
import { retryDelayMs, type RetryPolicy } from './retry-policy.ts';

export type MessageStatus = 'requested' | 'failed' | 'sent' | 'abandoned';

export type MessageState =
  | { readonly status: 'none' }
  | {
      readonly status: MessageStatus;
      readonly request: MessageRequested['data'];
      /** Delivery attempts made so far. */
      readonly attempts: number;
      /** When a failed message is due again; null otherwise. */
      readonly nextAttemptAt: string | null;
      /** The body the LLM wrote, once recorded (MessageComposed); null until then, and for templates and explicit bodies. */
      readonly composed: Composition | null;
    };

export type MessageCommand =
  | { readonly type: 'RequestMessage'; readonly data: Omit<MessageRequested['data'], 'requestedAt'> & { readonly now: string } }
  /** A message that cannot be sent as asked (no recipient, an invalid one, too large to record): requested, and abandoned at once, so it shows. */
  | { readonly type: 'RefuseMessage'; readonly data: Omit<MessageRequested['data'], 'requestedAt'> & { readonly reason: string; readonly now: string } }
  /** Fails a message for good, whatever attempts are left: what no retry can mend (a body too large to send or record). */
  | { readonly type: 'Abandon'; readonly data: { readonly error: string; readonly now: string } }
  | { readonly type: 'RecordComposed'; readonly data: Composition & { readonly now: string } }
  | { readonly type: 'RecordSent'; readonly data: Composition & { readonly now: string } }
  | { readonly type: 'RecordFailed'; readonly data: { readonly error: string; readonly policy: RetryPolicy; readonly now: string } };

/** A message may be delivered while it is requested or failed (and due); sent and abandoned are final. */
export const isDeliverable = (state: MessageState, now: string): boolean =>
  state.status === 'requested' || (state.status === 'failed' && state.nextAttemptAt !== null && Date.parse(state.nextAttemptAt) <= Date.parse(now));

const decide = (command: MessageCommand, state: MessageState): MessageEvent[] => {
  if (command.type === 'RequestMessage') {
    if (state.status !== 'none') throw new DomainError('conflict', `message ${command.data.messageId} was requested already`);
    if (command.data.channel === 'webhook' && (command.data.webhookUrl === null || !isHttpUrl(command.data.webhookUrl))) {
      throw new DomainError('invalid', 'a webhook message needs an http or https webhookUrl', '/webhookUrl');
    }
    if (command.data.webhookUrl !== null && hasCredentials(command.data.webhookUrl)) throw new DomainError('invalid', CREDENTIALS_REFUSED, '/webhookUrl');
    const recipientRefused = recipientProblem(command.data.channel, command.data.recipient);
    if (recipientRefused !== undefined) throw new DomainError('invalid', recipientRefused, '/recipient');
    const { now, ...request } = command.data;
    return [{ type: 'MessageRequested', data: { ...request, requestedAt: now } }];
  }
  if (command.type === 'RefuseMessage') {
    if (state.status !== 'none') throw new DomainError('conflict', `message ${command.data.messageId} was requested already`);
    const { now, reason, ...request } = command.data;
    return [
      { type: 'MessageRequested', data: { ...request, requestedAt: now } },
      { type: 'MessageAbandoned', data: { messageId: request.messageId, attempts: 0, error: reason, abandonedAt: now } },
    ];
  }
  if (state.status === 'none') throw new DomainError('not_found', 'message not found');
  if (state.status === 'sent' || state.status === 'abandoned') throw new DomainError('conflict', `message ${state.request.messageId} is ${state.status}`);
  const { messageId, channel, recipient } = state.request;
  if (command.type === 'Abandon') {
    return [{ type: 'MessageAbandoned', data: { messageId, attempts: state.attempts, error: command.data.error, abandonedAt: command.data.now } }];
  }
  if (command.type === 'RecordComposed') {
    if (state.composed !== null) throw new DomainError('conflict', `message ${messageId} was composed already`);
    const { now, ...composition } = command.data;
    return [{ type: 'MessageComposed', data: { messageId, ...composition, composedAt: now } }];
  }
  const attempt = state.attempts + 1;
  if (command.type === 'RecordSent') {
    const { body, provider, model, cached, now } = command.data;
    return [{ type: 'MessageSent', data: { messageId, channel, recipient, body, provider, model, cached, attempt, sentAt: now } }];
  }
  const { error, policy, now } = command.data;
  // Every attempt leaves its MessageFailed, the last one too, so the attempts read back whole; abandoning is the fact after it.
  if (attempt >= policy.maxAttempts) {
    return [
      { type: 'MessageFailed', data: { messageId, attempt, error, nextAttemptAt: null, failedAt: now } },
      { type: 'MessageAbandoned', data: { messageId, attempts: attempt, error, abandonedAt: now } },
    ];
  }
  const nextAttemptAt = new Date(Date.parse(now) + retryDelayMs(policy, attempt)).toISOString();
  return [{ type: 'MessageFailed', data: { messageId, attempt, error, nextAttemptAt, failedAt: now } }];
};

const evolve = (state: MessageState, event: MessageEvent): MessageState => {
  if (event.type === 'MessageRequested') return { status: 'requested', request: event.data, attempts: 0, nextAttemptAt: null, composed: null };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'MessageComposed': {
      const { body, provider, model, cached } = event.data;
      return { ...state, composed: { body, provider, model, cached } };
    }
    case 'MessageSent':
      return { ...state, status: 'sent', attempts: event.data.attempt, nextAttemptAt: null };
    case 'MessageFailed':
      return { ...state, status: 'failed', attempts: event.data.attempt, nextAttemptAt: event.data.nextAttemptAt };
    case 'MessageAbandoned':
      return { ...state, status: 'abandoned', attempts: event.data.attempts, nextAttemptAt: null };
  }
};

export const messageDecider: Decider<MessageState, MessageCommand, MessageEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
