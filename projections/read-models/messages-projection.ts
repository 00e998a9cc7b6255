import type { Lifecycle } from '../../domain/message/earning-step.ts';
import { MESSAGE_EVENT_TYPES, type MessageEvent } from '../../domain/message/message-events.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import { oneByOne, type Projection } from '../projection.ts';

/** rm_messages.lifecycle: which step of its earning a message is about. */
export type MessageLifecycle = Lifecycle;

/** rm_messages (one row per message, its status and last outcome) and rm_message_attempts (one row per delivery attempt). */
export const messagesProjection: Projection = {
  name: 'messages',
  eventTypes: MESSAGE_EVENT_TYPES,
  tables: ['rm_messages', 'rm_message_attempts'],
  applyBatch: oneByOne(async (trx, recorded) => {
    const event = asDomainEvent<MessageEvent>(recorded);
    const id = event.data.messageId;
    switch (event.type) {
      case 'MessageRequested': {
        const { earningId, campaignId, lifecycle, channel, recipient, subject, content, requestedAt } = event.data;
        // An explicit body is known now; a template or a prompt becomes the body when the message is sent.
        await trx('rm_messages').insert({
          // Requested before approvals and reversals had messages: about the grant.
          id, earning_id: earningId, campaign_id: campaignId, lifecycle: lifecycle ?? (earningId === null ? null : 'granted'), channel, recipient, status: 'requested', subject,
          body: 'body' in content ? content.body : null, requested_at: requestedAt,
        });
        return;
      }
      case 'MessageComposed': {
        // The LLM's body is known, and final, before it is delivered.
        const { body, provider, model, cached } = event.data;
        await trx('rm_messages').where({ id }).update({ body, provider, model, cached });
        return;
      }
      case 'MessageSent': {
        const { attempt, body, provider, model, cached, sentAt } = event.data;
        await trx('rm_messages').where({ id }).update({ status: 'sent', body, provider, model, cached, attempts: attempt, next_attempt_at: null, sent_at: sentAt });
        await trx('rm_message_attempts').insert({ message_id: id, attempt, outcome: 'sent', at: sentAt });
        return;
      }
      case 'MessageFailed': {
        const { attempt, error, nextAttemptAt, failedAt } = event.data;
        await trx('rm_messages').where({ id }).update({ status: 'failed', attempts: attempt, last_error: error, next_attempt_at: nextAttemptAt });
        await trx('rm_message_attempts').insert({ message_id: id, attempt, outcome: 'failed', error, next_attempt_at: nextAttemptAt, at: failedAt });
        return;
      }
      case 'MessageAbandoned':
        await trx('rm_messages').where({ id }).update({ status: 'abandoned', attempts: event.data.attempts, last_error: event.data.error, next_attempt_at: null });
        return;
    }
  }),
};
