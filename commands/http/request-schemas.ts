import type { RewardInput } from '../../domain/campaign/campaign-decider.ts';
import type { JsonObject } from '../../domain/json.ts';
import { DEFAULT_MAX_TOKENS, PROVIDER_NAMES, type ProviderName } from '../../infrastructure/llm/llm-gateway.ts';
import { CHANNELS, type CampaignNotifications } from '../../domain/message/notifications.ts';

/**
 * JSON Schemas of the command API's request bodies (DESIGN §7). The same
 * objects validate requests and make GET /openapi.json, so the two cannot drift.
 */

/** Kept in UTC, cut to milliseconds; the exact rules are in infrastructure/http/date-time.ts. */
const dateTime = {
  type: 'string',
  format: 'date-time',
  description: 'RFC 3339 with an offset within ±14:00, in years 0001–9999, no leap second; stored in UTC, to the millisecond',
} as const;

export interface CreateCampaignBody {
  name: string;
  description?: string;
  currency?: string;
  budget?: number;
  holdDays?: number;
  refundDays?: number;
  startsAt?: string;
  endsAt?: string;
  notifications?: CampaignNotifications;
  generateDescription?: boolean;
  descriptionPrompt?: string;
}

const templateSchema = { type: 'string', minLength: 1, maxLength: 10_000 } as const;
const promptSchema = { type: 'string', minLength: 1, maxLength: 10_000 } as const;
const subjectSchema = { type: 'string', minLength: 1, maxLength: 500 } as const;

/** The words of an approval's or a reversal's message (issue 11); exactly one of template and prompt, as the main ones. */
const wordingSchema = (step: string) => ({
  type: 'object',
  additionalProperties: false,
  description: `the message sent ${step}; when absent, the main prompt told which step it is, or (with a main template) a default text`,
  properties: {
    template: { ...templateSchema, description: 'plain text with {{path}} placeholders over {lifecycle, earning, event, campaign, approval | reversal}' },
    prompt: { ...promptSchema, description: 'asks the LLM gateway to write the message, with the context as JSON' },
    subject: { ...subjectSchema, description: 'email subject of this message; the main subject (or the campaign name) when absent' },
  },
}) as const;

/** Shapes only: exactly one of template and prompt, the path and webhookUrl are the campaign decider's to check (a 400 with a pointer). */
const notificationsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'recipient'],
  description: 'a message for each earning of the campaign (issue 10)',
  properties: {
    channel: { enum: CHANNELS },
    recipient: { type: 'string', minLength: 1, maxLength: 200, description: 'dot-notation path into the tracked event (data.email), or a field of the earning (beneficiaryId)' },
    template: { ...templateSchema, description: 'plain text with {{path}} placeholders over {lifecycle, earning, event, campaign}' },
    prompt: { ...promptSchema, description: 'asks the LLM gateway to write the message, with the earning and the tracked event as context' },
    subject: { ...subjectSchema, description: 'email subject; the campaign name when absent' },
    webhookUrl: { type: 'string', minLength: 1, maxLength: 2000, description: 'required for the webhook channel' },
    secret: { type: 'string', minLength: 1, maxLength: 500, description: 'HMAC key of Tally-Signature; WEBHOOK_SECRET when absent' },
    onApproved: wordingSchema('when a held earning is approved'),
    onReversed: wordingSchema('for each reversal (a refund, full or partial) of an earning'),
  },
} as const;

export const createCampaignSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 5000 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; EUR when absent' },
    budget: { type: 'number', exclusiveMinimum: 0, description: 'total that the campaign may grant, in the currency major unit' },
    holdDays: { type: 'integer', minimum: 0, maximum: 3650, description: 'days each earning stays pending before it is approved; 0 (the default) approves it when granted' },
    refundDays: { type: 'integer', minimum: 0, maximum: 3650, description: 'days after its tracked event that a refund can still reverse an earning; 365 by default' },
    startsAt: dateTime,
    endsAt: dateTime,
    notifications: notificationsSchema,
    generateDescription: { type: 'boolean', description: 'true: the AI gateway writes the description from the name (not with an explicit description)' },
    descriptionPrompt: {
      type: 'string', minLength: 1, maxLength: 10_000, pattern: '\\S',
      description: 'what the generated description should say, besides the name; implies generateDescription (not with an explicit description)',
    },
  },
} as const;

export interface AddRuleBody {
  name?: string;
  priority?: number;
  conditions: JsonObject;
  reward: RewardInput;
  beneficiary?: string;
  limits?: { maxPerBeneficiary?: number };
}

const documentPath = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^$.][^$]*$', description: 'dot-notation path into the tracked event' } as const;

export const addRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['conditions', 'reward'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    priority: { type: 'integer', minimum: -1000000, maximum: 1000000, description: 'higher is tried first; 0 when absent' },
    conditions: { type: 'object', description: 'MongoDB-style query over the tracked event (DESIGN §5)' },
    reward: {
      type: 'object',
      discriminator: { propertyName: 'type' },
      required: ['type'],
      properties: { type: { enum: ['fixed', 'percentage'] } },
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'amount'],
          properties: { type: { const: 'fixed' }, amount: { type: 'number', exclusiveMinimum: 0 } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'rate', 'of'],
          properties: {
            type: { const: 'percentage' },
            rate: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: '0.05 is 5%' },
            of: documentPath,
            cap: { type: 'number', exclusiveMinimum: 0 },
          },
        },
      ],
    },
    beneficiary: documentPath,
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: { maxPerBeneficiary: { type: 'integer', minimum: 1, description: 'earnings per beneficiary per campaign' } },
    },
  },
} as const;

export type TrackEventBody = JsonObject;

export const EVENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

export const trackEventSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', pattern: EVENT_ID_PATTERN, description: 'the client’s id; registration is idempotent on it' },
    type: { type: 'string', minLength: 1, maxLength: 100 },
    occurredAt: dateTime,
  },
  // A refund names the event it refunds, and may refund part of its amount (the rule engine reverses that share of its earnings).
  if: { properties: { type: { const: 'refund' } }, required: ['type'] },
  then: {
    required: ['refundOf'],
    properties: {
      refundOf: { type: 'string', pattern: EVENT_ID_PATTERN, description: 'the id of the tracked event refunded' },
      amount: { type: 'number', exclusiveMinimum: 0, description: 'the refunded part of the refunded event\u2019s amount; absent: all of it' },
    },
  },
} as const;

export const MAX_BATCH = 1000;

export interface TrackEventBatchBody {
  events: unknown[];
}

/** Items are validated one by one against trackEventSchema, so one bad item does not sink the batch. */
export const trackEventBatchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['events'],
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: {} } },
} as const;

export interface GenerateBody {
  prompt: string;
  system?: string;
  provider?: ProviderName;
  model?: string;
  maxTokens?: number;
  temperature?: number;
  useCache?: boolean;
}

export const generateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', minLength: 1, maxLength: 100_000, pattern: '\\S', description: 'what to write; not blank' },
    system: { type: 'string', maxLength: 100_000, description: 'the system prompt' },
    provider: { enum: PROVIDER_NAMES, description: 'asked first; the rest of LLM_FALLBACK follows. One left out of LLM_FALLBACK is a 400' },
    model: { type: 'string', minLength: 1, maxLength: 200, description: 'for the provider asked first (the one named, else the first configured); fallbacks use their configured model' },
    maxTokens: { type: 'integer', minimum: 1, maximum: 32_768, description: `${DEFAULT_MAX_TOKENS} when absent` },
    temperature: { type: 'number', minimum: 0, maximum: 2, description: 'Anthropic takes 0 to 1: above that it refuses, and the chain moves on' },
    useCache: { type: 'boolean', description: 'false: neither read nor write the response cache (true when absent)' },
  },
} as const;
