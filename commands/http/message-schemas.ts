import { CHANNELS, type Channel } from '../../domain/message/notifications.ts';

/** POST /messages: one message sent explicitly, about no earning (issue 10). Exactly one of body and prompt (checked by the route). */
export interface SendMessageBody {
  recipient: string;
  channel?: Channel;
  body?: string;
  prompt?: string;
  subject?: string;
  webhookUrl?: string;
}

export const sendMessageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['recipient'],
  properties: {
    recipient: { type: 'string', minLength: 1, maxLength: 500, description: 'the address: an email address for email, any id for log and webhook' },
    channel: { enum: CHANNELS, description: 'log when absent' },
    body: { type: 'string', minLength: 1, maxLength: 100_000, description: 'sent as is' },
    prompt: { type: 'string', minLength: 1, maxLength: 10_000, description: 'the LLM gateway writes the body' },
    subject: { type: 'string', minLength: 1, maxLength: 500, description: 'email subject' },
    webhookUrl: { type: 'string', minLength: 1, maxLength: 2000, description: 'required for the webhook channel' },
  },
} as const;
