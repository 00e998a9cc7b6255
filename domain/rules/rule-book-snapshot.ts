import { Ajv } from 'ajv';
import type { CampaignStatus } from '../campaign/campaign-events.ts';
import type { Minor } from '../money.ts';
import type { CountedRefund } from '../earning/refund.ts';
import type { Match } from '../tracked-event/tracked-event-events.ts';
import type { Rule } from './rule.ts';

/**
 * Bumped whenever the shape of the state changes, or what the book makes of
 * the log does (how it counts, what it keeps): a snapshot taken by another
 * version is not read, and the log is folded from the start instead.
 */
export const RULE_BOOK_SNAPSHOT_VERSION = 2;

/**
 * A rule book as plain JSON: restored, it is the book that folded the log up to
 * where the snapshot was taken, including what `record` counted for decisions
 * whose events it had not folded yet. Money stays integer minor units and rates
 * stay the numbers the log holds: JSON gives every one of them back exactly.
 */
export interface RuleBookSnapshot {
  readonly version: number;
  readonly state: RuleBookState;
}

export interface RuleBookState {
  /** In the order the log created them: the order of skip reasons. */
  readonly campaigns: readonly CampaignState[];
  /** The order of addition the next rule will get. */
  readonly nextSequence: number;
  /** Decisions counted by `record` whose decision events were not folded yet; they replace these counts when they are. */
  readonly pending: readonly PendingDecision[];
  /** Every tracked event that earned something (version 2 on): what refunds of it reverse. */
  readonly earned: readonly EarnedState[];
  /** Refunds counted by `recordRefund` whose decision was not folded yet, with what they counted. */
  readonly pendingRefunds: readonly (CountedRefund & { readonly refundEventId: string; readonly refundOf: string })[];
  /** The latest registration time folded, epoch ms; null before any. */
  readonly newestAt: number | null;
}

export interface EarnedState {
  readonly eventId: string;
  readonly amount: number | null;
  /** Its registration time, epoch ms, where its refund windows start; null when not known. */
  readonly at: number | null;
  readonly grants: readonly Match[];
  /** [refund event id, what it refunded and reversed], in the order counted. */
  readonly refunds: readonly (readonly [string, CountedRefund])[];
}

export interface CampaignState {
  readonly campaignId: string;
  readonly ordinal: number;
  readonly currency: string;
  readonly budget: Minor | null;
  /** Absent in snapshots taken before holds existed (version 1 still: nothing they hold changes meaning), read as 0. */
  readonly holdDays?: number;
  /** Null: no limit (a campaign created before refunds). */
  readonly refundDays: number | null;
  /** Epoch milliseconds. */
  readonly startsAt: number | null;
  readonly endsAt: number | null;
  readonly status: CampaignStatus;
  readonly activatedBySchedule: boolean;
  readonly endedBySchedule: { readonly before: CampaignStatus } | null;
  readonly granted: Minor;
  /** [beneficiaryId, earnings], in the order first counted; pairs, as ids are data and not safe as object keys. */
  readonly earningsByBeneficiary: readonly (readonly [string, number])[];
  /** In the order they are tried. */
  readonly rules: readonly RuleState[];
}

export interface RuleState extends Rule {
  /** Order of addition across the book: breaks priority ties. */
  readonly sequence: number;
}

export interface PendingDecision {
  readonly eventId: string;
  readonly matches: readonly Match[];
  /** The event's own amount, which partial refunds of it are a share of (see RuleBook.record). */
  readonly refundable: number | null;
  /** Its registration time, epoch ms; null when not known. */
  readonly at: number | null;
}

export type SnapshotReading = { readonly ok: true; readonly state: RuleBookState } | { readonly ok: false; readonly reason: string };

const STATUSES = ['scheduled', 'active', 'paused', 'ended'] satisfies CampaignStatus[];

const INTEGER = { type: 'integer' } as const;
const INTEGER_OR_NULL = { type: ['integer', 'null'] } as const;
const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const STRING = { type: 'string' } as const;
const NUMBER_OR_NULL = { type: ['number', 'null'] } as const;
const STATUS = { enum: STATUSES } as const;
const pair = (first: object, second: object) => ({ type: 'array', items: [first, second], minItems: 2, additionalItems: false }) as const;
const object = (properties: Record<string, object>, optional: Record<string, object> = {}) =>
  ({ type: 'object', required: Object.keys(properties), properties: { ...properties, ...optional } }) as const;

const REVERSAL = object({ campaignId: STRING, earningId: STRING, beneficiaryId: STRING, amount: INTEGER, currency: STRING, remaining: INTEGER });
const MATCH = object({ campaignId: STRING, ruleId: STRING, earningId: STRING, beneficiaryId: STRING, amount: INTEGER, currency: STRING });

/** The shape `snapshot()` writes (other properties are let through, as the book ignores them). */
const STATE_SCHEMA = object({
  nextSequence: COUNT,
  campaigns: {
    type: 'array',
    items: object({
      campaignId: STRING, ordinal: COUNT, currency: STRING, budget: INTEGER_OR_NULL, startsAt: NUMBER_OR_NULL, endsAt: NUMBER_OR_NULL,
      refundDays: INTEGER_OR_NULL, status: STATUS, activatedBySchedule: { type: 'boolean' }, endedBySchedule: { oneOf: [{ type: 'null' }, object({ before: STATUS })] }, granted: INTEGER,
      earningsByBeneficiary: { type: 'array', items: { type: 'array', items: [STRING, INTEGER], minItems: 2, additionalItems: false } },
      rules: {
        type: 'array',
        items: object({
          ruleId: STRING, name: STRING, priority: { type: 'number' }, conditions: { type: 'object' },
          reward: { oneOf: [object({ type: { const: 'fixed' }, amount: INTEGER }), object({ type: { const: 'percentage' }, rate: { type: 'number' }, of: STRING, cap: INTEGER_OR_NULL })] },
          beneficiary: STRING, limits: object({ maxPerBeneficiary: INTEGER_OR_NULL }), sequence: COUNT,
        }),
      },
    }, { holdDays: COUNT }),
  },
  pending: { type: 'array', items: object({ eventId: STRING, matches: { type: 'array', items: MATCH }, refundable: NUMBER_OR_NULL, at: NUMBER_OR_NULL }) },
  earned: {
    type: 'array',
    items: object({
      eventId: STRING,
      amount: NUMBER_OR_NULL,
      at: NUMBER_OR_NULL,
      grants: { type: 'array', items: MATCH },
      refunds: {
        type: 'array',
        items: pair(STRING, object({
          amount: NUMBER_OR_NULL,
          reversals: { type: 'array', items: REVERSAL },
        })),
      },
    }),
  },
  pendingRefunds: { type: 'array', items: object({ refundEventId: STRING, refundOf: STRING, amount: NUMBER_OR_NULL, reversals: { type: 'array', items: REVERSAL } }) },
  newestAt: NUMBER_OR_NULL,
});

// Pure: compiling and checking a schema reads and writes nothing.
const matchesShape = new Ajv({ strict: true }).compile(STATE_SCHEMA);

/** Where the state first departs from the shape the book writes, or undefined. */
const shapeError = (state: unknown): string | undefined => {
  if (matchesShape(state)) return undefined;
  const [error] = matchesShape.errors ?? [];
  const missing = (error?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const at = `${error?.instancePath ?? ''}${missing === undefined ? '' : `/${missing}`}`;
  return at === '' ? 'the state is not an object' : `${at} is not what the book writes there`;
};

/** What the restored book relies on beyond each field's shape: one entry per campaign, one order of addition per rule. */
const checkWhole = (state: RuleBookState): string | undefined => {
  if (new Set(state.campaigns.map((campaign) => campaign.campaignId)).size !== state.campaigns.length) return 'a campaign is there twice';
  const sequences = state.campaigns.flatMap((campaign) => campaign.rules.map((rule) => rule.sequence));
  if (new Set(sequences).size !== sequences.length || sequences.some((sequence) => sequence >= state.nextSequence)) return 'the rules\u2019 order of addition is not consistent';
  if (new Set(state.pending.map((pending) => pending.eventId)).size !== state.pending.length) return 'a pending decision is there twice';
  if (new Set(state.earned.map((earned) => earned.eventId)).size !== state.earned.length) return 'an event\u2019s earnings are there twice';
  if (new Set(state.pendingRefunds.map(({ refundEventId }) => refundEventId)).size !== state.pendingRefunds.length) return 'a pending refund is there twice';
  return undefined;
};

/**
 * Reads a stored snapshot: refused when another version wrote it, or when it
 * is not the shape this version writes (a damaged row): the caller then folds
 * the log from the start, which is always right, only slower.
 */
export const readRuleBookSnapshot = (version: number, state: unknown): SnapshotReading => {
  if (version !== RULE_BOOK_SNAPSHOT_VERSION) return { ok: false, reason: `written by version ${version}, this is version ${RULE_BOOK_SNAPSHOT_VERSION}` };
  const wrong = shapeError(state) ?? checkWhole(state as RuleBookState);
  return wrong ? { ok: false, reason: wrong } : { ok: true, state: state as RuleBookState };
};
