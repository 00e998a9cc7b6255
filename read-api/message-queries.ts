import type { Knex } from 'knex';
import type { MessageLifecycle } from '../projections/read-models/messages-projection.ts';

export const MESSAGE_STATUSES = ['requested', 'failed', 'sent', 'abandoned'] as const;
export type MessageStatusView = (typeof MESSAGE_STATUSES)[number];

export interface MessageAttemptView {
  attempt: number;
  outcome: 'sent' | 'failed';
  error: string | null;
  nextAttemptAt: string | null;
  at: string;
}

export interface MessageView {
  id: string;
  earningId: string | null;
  campaignId: string | null;
  /** Which step of its earning the message is about; null for a message about no earning. */
  lifecycle: MessageLifecycle | null;
  channel: string;
  recipient: string;
  status: MessageStatusView;
  subject: string | null;
  body: string | null;
  provider: string | null;
  model: string | null;
  cached: boolean | null;
  /** Delivery attempts made; GET /messages/:id lists them as `attempts`. */
  attemptCount: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  requestedAt: string;
  sentAt: string | null;
}

interface MessageRow {
  id: string;
  earning_id: string | null;
  campaign_id: string | null;
  lifecycle: MessageLifecycle | null;
  channel: string;
  recipient: string;
  status: MessageStatusView;
  subject: string | null;
  body: string | null;
  provider: string | null;
  model: string | null;
  cached: boolean | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  requested_at: Date;
  sent_at: Date | null;
}

interface AttemptRow {
  attempt: number;
  outcome: 'sent' | 'failed';
  error: string | null;
  next_attempt_at: Date | null;
  at: Date;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const toView = (row: MessageRow): MessageView => ({
  id: row.id, earningId: row.earning_id, campaignId: row.campaign_id, lifecycle: row.lifecycle, channel: row.channel, recipient: row.recipient, status: row.status,
  subject: row.subject, body: row.body, provider: row.provider, model: row.model, cached: row.cached, attemptCount: row.attempts, lastError: row.last_error,
  nextAttemptAt: iso(row.next_attempt_at), requestedAt: row.requested_at.toISOString(), sentAt: iso(row.sent_at),
});

/** GET /messages and GET /messages/:id, from rm_messages and rm_message_attempts. */
export const createMessageQueries = (knex: Knex) => ({
  async messages(filter: { recipient?: string; status?: MessageStatusView; campaignId?: string }, limit: number, offset: number): Promise<MessageView[]> {
    const query = knex<MessageRow>('rm_messages').orderBy([{ column: 'requested_at', order: 'desc' }, { column: 'id' }]).limit(limit).offset(offset);
    if (filter.recipient !== undefined) query.where('recipient', filter.recipient);
    if (filter.status !== undefined) query.where('status', filter.status);
    if (filter.campaignId !== undefined) query.where('campaign_id', filter.campaignId);
    return (await query.select<MessageRow[]>('*')).map(toView);
  },

  async message(id: string): Promise<(MessageView & { attempts: MessageAttemptView[] }) | undefined> {
    const row = await knex('rm_messages').where({ id }).first<MessageRow | undefined>('*');
    if (!row) return undefined;
    const attempts = await knex('rm_message_attempts').where({ message_id: id }).orderBy('attempt').select<AttemptRow[]>('attempt', 'outcome', 'error', 'next_attempt_at', 'at');
    return {
      ...toView(row),
      attempts: attempts.map((attempt) => ({ attempt: attempt.attempt, outcome: attempt.outcome, error: attempt.error, nextAttemptAt: iso(attempt.next_attempt_at), at: attempt.at.toISOString() })),
    };
  },
});
