import type { JsonObject } from '../../domain/json.ts';

/** JSON Schemas of the command API's request bodies (DESIGN §7). */

export interface CreateCampaignBody {
  name: string;
  description?: string;
  currency?: string;
  budget?: number;
  startsAt?: string;
  endsAt?: string;
}

export const createCampaignSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 5000 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    budget: { type: 'number', exclusiveMinimum: 0 },
    startsAt: { type: 'string', format: 'date-time' },
    endsAt: { type: 'string', format: 'date-time' },
  },
} as const;

export interface AddRuleBody {
  name?: string;
  priority?: number;
  conditions: JsonObject;
  reward: { type: 'fixed'; amount: number };
  beneficiary?: string;
}

export const addRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['conditions', 'reward'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    priority: { type: 'integer', minimum: -1000000, maximum: 1000000 },
    conditions: { type: 'object' },
    reward: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'amount'],
      properties: {
        type: { const: 'fixed' },
        amount: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    beneficiary: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export type TrackEventBody = JsonObject;

export const EVENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

export const trackEventSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', pattern: EVENT_ID_PATTERN },
    type: { type: 'string', minLength: 1, maxLength: 100 },
    occurredAt: { type: 'string', format: 'date-time' },
  },
} as const;
