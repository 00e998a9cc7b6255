import type { CampaignStatus } from '../campaign/campaign-events.ts';
import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';
import type { Match } from '../tracked-event/tracked-event-events.ts';
import type { Rule } from './rule.ts';

/**
 * Bumped whenever the shape of the state changes, or what the book makes of
 * the log does (how it counts, what it keeps): a snapshot taken by another
 * version is not read, and the log is folded from the start instead.
 */
export const RULE_BOOK_SNAPSHOT_VERSION = 1;

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
}

export interface CampaignState {
  readonly campaignId: string;
  readonly ordinal: number;
  readonly currency: string;
  readonly budget: Minor | null;
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
}

export type SnapshotReading = { readonly ok: true; readonly state: RuleBookState } | { readonly ok: false; readonly reason: string };

const STATUSES: readonly unknown[] = ['scheduled', 'active', 'paused', 'ended'] satisfies CampaignStatus[];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isInteger = (value: unknown): value is number => Number.isInteger(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isIntegerOrNull = (value: unknown): boolean => value === null || isInteger(value);
const isFiniteOrNull = (value: unknown): boolean => value === null || (typeof value === 'number' && Number.isFinite(value));
const isString = (value: unknown): value is string => typeof value === 'string';

/** Where the state first departs from the shape the book writes, or undefined. */
type Check = (value: unknown, at: string) => string | undefined;

const each = (value: unknown, at: string, check: Check): string | undefined => {
  if (!Array.isArray(value)) return `${at} is not a list`;
  for (const [i, item] of value.entries()) {
    const wrong = check(item, `${at}/${i}`);
    if (wrong) return wrong;
  }
  return undefined;
};

const fields = (value: unknown, at: string, checks: Readonly<Record<string, (field: unknown) => boolean>>): string | undefined => {
  if (!isObject(value)) return `${at || 'the state'} is not an object`;
  for (const [name, check] of Object.entries(checks)) if (!check(value[name])) return `${at}/${name} is not what the book writes there`;
  return undefined;
};

const checkReward = (reward: unknown): boolean =>
  isObject(reward) &&
  ((reward.type === 'fixed' && isInteger(reward.amount)) ||
    (reward.type === 'percentage' && typeof reward.rate === 'number' && Number.isFinite(reward.rate) && isString(reward.of) && isIntegerOrNull(reward.cap)));

const checkRule: Check = (rule, at) =>
  fields(rule, at, {
    ruleId: isString, name: isString, priority: (p) => typeof p === 'number' && Number.isFinite(p), conditions: isObject, reward: checkReward,
    beneficiary: isString, limits: (limits) => isObject(limits) && isIntegerOrNull(limits.maxPerBeneficiary), sequence: isCount,
  });

const checkMatch: Check = (match, at) =>
  fields(match, at, { campaignId: isString, ruleId: isString, earningId: isString, beneficiaryId: isString, amount: isInteger, currency: isString });

const checkCampaign: Check = (campaign, at) =>
  fields(campaign, at, {
    campaignId: isString, ordinal: isCount, currency: isString, budget: isIntegerOrNull, startsAt: isFiniteOrNull, endsAt: isFiniteOrNull,
    status: (status) => STATUSES.includes(status), activatedBySchedule: (flag) => typeof flag === 'boolean',
    endedBySchedule: (ended) => ended === null || (isObject(ended) && STATUSES.includes(ended.before)), granted: isInteger,
  }) ??
  each((campaign as Record<string, unknown>).earningsByBeneficiary, `${at}/earningsByBeneficiary`, (pair, pairAt) =>
    Array.isArray(pair) && pair.length === 2 && isString(pair[0]) && isInteger(pair[1]) ? undefined : `${pairAt} is not a [beneficiaryId, count] pair`,
  ) ??
  each((campaign as Record<string, unknown>).rules, `${at}/rules`, checkRule);

const checkPending: Check = (pending, at) => fields(pending, at, { eventId: isString }) ?? each((pending as Record<string, unknown>).matches, `${at}/matches`, checkMatch);

/** What the restored book relies on beyond each field's shape: one entry per campaign, one order of addition per rule. */
const checkWhole = (state: RuleBookState): string | undefined => {
  if (new Set(state.campaigns.map((campaign) => campaign.campaignId)).size !== state.campaigns.length) return 'a campaign is there twice';
  const sequences = state.campaigns.flatMap((campaign) => campaign.rules.map((rule) => rule.sequence));
  if (new Set(sequences).size !== sequences.length || sequences.some((sequence) => sequence >= state.nextSequence)) return 'the rules\u2019 order of addition is not consistent';
  if (new Set(state.pending.map((pending) => pending.eventId)).size !== state.pending.length) return 'a pending decision is there twice';
  return undefined;
};

/**
 * Reads a stored snapshot: refused when another version wrote it, or when it
 * is not the shape this version writes (a damaged row): the caller then folds
 * the log from the start, which is always right, only slower.
 */
export const readRuleBookSnapshot = (version: number, state: unknown): SnapshotReading => {
  if (version !== RULE_BOOK_SNAPSHOT_VERSION) return { ok: false, reason: `written by version ${version}, this is version ${RULE_BOOK_SNAPSHOT_VERSION}` };
  const wrong =
    fields(state, '', { nextSequence: isCount }) ??
    each((state as JsonObject).campaigns, '/campaigns', checkCampaign) ??
    each((state as JsonObject).pending, '/pending', checkPending) ??
    checkWhole(state as unknown as RuleBookState);
  return wrong ? { ok: false, reason: wrong } : { ok: true, state: state as unknown as RuleBookState };
};
