import { CAMPAIGN_EVENT_TYPES, statusAfter, type CampaignEvent, type CampaignStatus } from '../campaign/campaign-events.ts';
import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';
import { decideRefund, type CountedRefund, type RefundDecision, type RefundRequest } from '../earning/refund.ts';
import type { EventSkipped, Match, RefundApplied, RuleMatched, SkipReason } from '../tracked-event/tracked-event-events.ts';
import { compileRecordedConditions, escapePointer, type Matcher } from './conditions.ts';
import { valueAtKeys } from './document-path.ts';
import { createEqualityIndex, indexKeysOf } from './equality-index.ts';
import { rewardFor } from './reward.ts';
import type { Rule } from './rule.ts';
import { readRuleBookSnapshot, RULE_BOOK_SNAPSHOT_VERSION, type RuleBookSnapshot, type RuleBookState } from './rule-book-snapshot.ts';

interface CompiledRule extends Rule {
  readonly campaign: CampaignInForce;
  /** Compiled once, when the rule is added. */
  readonly matches: Matcher;
  readonly beneficiaryKeys: readonly string[];
  /** Order of addition: breaks priority ties, so the older rule wins. */
  readonly sequence: number;
  /** Global trial order: campaign by campaign, then by priority. */
  rank: number;
  /** One matcher per top-level condition, compiled the first time an explanation needs them. */
  explainers?: readonly (readonly [string, Matcher])[];
}

interface CampaignInForce {
  readonly campaignId: string;
  readonly ordinal: number;
  readonly currency: string;
  readonly budget: Minor | null;
  /** Days its earnings stay pending; the grant needs it for approvesAt. */
  readonly holdDays: number;
  /** Days after its tracked event that a refund can reverse one of its earnings; null: no limit (campaigns created before refunds). */
  readonly refundDays: number | null;
  /** Epoch milliseconds; the window is judged at each tracked event's registration time. */
  readonly startsAt: number | null;
  readonly endsAt: number | null;
  status: CampaignStatus;
  /**
   * Transitions the schedule made at startsAt / endsAt: for those, the clock
   * of the event decides, not the order in which the log received them.
   */
  activatedBySchedule: boolean;
  endedBySchedule: { readonly before: CampaignStatus } | null;
  /** Descending priority, then order of addition. */
  rules: CompiledRule[];
  granted: Minor;
  earningsByBeneficiary: Map<string, number>;
}

/** Everything a rule book folds: campaign events and decisions. */
export type RuleBookEvent = CampaignEvent | RuleMatched | EventSkipped | RefundApplied;
export const RULE_BOOK_EVENT_TYPES: readonly string[] = [...CAMPAIGN_EVENT_TYPES, 'RuleMatched', 'EventSkipped', 'RefundApplied'];

export type Decision = { readonly matches: readonly Match[]; readonly reasons: readonly SkipReason[] };

/** What the book keeps of a tracked event that earned something, for refunds of it. */
interface Earned {
  readonly amount: number | null;
  /** When it was registered (epoch ms): its campaigns' refund windows start there. Null when not known: no window closes. */
  readonly at: number | null;
  grants: readonly Match[];
  /** Created at its first refund: most events are never refunded. */
  refunds?: Map<string, CountedRefund>;
}

const NO_REFUNDS: ReadonlyMap<string, CountedRefund> = new Map();

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RuleExplanation {
  readonly campaignId: string;
  readonly ruleId: string;
  readonly matched: boolean;
  /** JSON pointer of the first top-level condition the document fails. */
  readonly failedPath?: string;
}

/**
 * The rule engine's view of every campaign, folded from the log in order:
 * rules, statuses, budgets spent and earnings per beneficiary. A tracked event
 * is decided against the book as it stood at the event's position, and the
 * decision is recorded before the next one, so replaying the log from zero
 * decides the same.
 */
export interface RuleBook {
  /**
   * Campaign events change rules and statuses. Decision events (RuleMatched,
   * EventSkipped) replace what `record` counted for that tracked event with
   * what the log says, so budgets and limits always end up as the log has them.
   */
  apply(event: RuleBookEvent): void;
  /**
   * What the campaigns in force at `at` (the event's registration time, ISO)
   * grant for this document. Reads the book, changes nothing. `earningIdFor` supplies ids.
   */
  decide(document: JsonObject, at: string, earningIdFor: (campaignId: string) => string): Decision;
  /**
   * Counts a decision against budgets and limits at once, until its decision
   * events come back through `apply`. `refundable`: the event's own amount,
   * which partial refunds of it are a share of (`refundableAmount`); null when it has none.
   */
  record(eventId: string, decision: Decision, refundable?: number | null, at?: string): void;
  /** Whether the tracked event earned something, as far as the book has folded: refunds of it have earnings to reverse. */
  hasEarned(eventId: string): boolean;
  /**
   * What a refund registered at `at` takes back of the earnings of `refundOf`,
   * as the book stands: of those whose campaign's refund window is still open.
   * `registered`: whether `refundOf` was registered before the refund (asked only
   * when `hasEarned` is false, to say why nothing is reversed).
   */
  decideRefund(request: RefundRequest, registered: boolean, at: string): RefundDecision;
  /** Gives the reversals back to budgets and limits at once, until the refund's decision comes back through `apply`. */
  recordRefund(refundEventId: string, decision: RefundDecision, at?: string): void;
  /** For every rule of every campaign in force at `at`: would it match, and if not, which condition fails first. */
  explain(document: JsonObject, at: string): RuleExplanation[];
  /** Days the campaign's earnings stay pending; 0 for a campaign the book does not know. */
  holdDaysOf(campaignId: string): number;
  /** The whole state as plain JSON, for `fromSnapshot` to restore exactly. Reads the book, changes nothing. */
  snapshot(): RuleBookSnapshot;
}

const RANKS_PER_CAMPAIGN = 1_000_000;

/** `from`: the state of a snapshot (see `fromSnapshot`, which checks it first); none, an empty book. */
export const createRuleBook = (from?: RuleBookState): RuleBook => {
  const campaigns = new Map<string, CampaignInForce>();
  const index = createEqualityIndex<CompiledRule>((a, b) => a.rank - b.rank);
  let sequence = 0;

  const rerank = (campaign: CampaignInForce): void => {
    campaign.rules.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
    campaign.rules.forEach((rule, i) => (rule.rank = campaign.ordinal * RANKS_PER_CAMPAIGN + i));
  };

  const compile = ({ ruleId, name, priority, conditions, reward, beneficiary, limits }: Rule, campaign: CampaignInForce, order: number): CompiledRule => ({
    ruleId, name, priority, conditions, reward, beneficiary, limits, campaign,
    matches: compileRecordedConditions(conditions), beneficiaryKeys: beneficiary.split('.'), sequence: order, rank: 0,
  });

  /** Earnings counted per tracked event whose decision events have not come back yet. */
  const pending = new Map<string, { readonly matches: readonly Match[]; readonly refundable: number | null; readonly at: number | null }>();
  /** Every tracked event that earned something: what refunds of it reverse. */
  const earned = new Map<string, Earned>();
  /** Refunds counted by `recordRefund` whose decision has not come back yet, with what they counted (the event they refund may be forgotten meanwhile). */
  const pendingRefunds = new Map<string, { readonly refundOf: string; readonly counted: CountedRefund }>();
  /** The latest registration time folded (epoch ms): refund windows closed before it (by a day, for clocks that disagree) are forgotten. */
  let newestAt: number | null = null;

  if (from) {
    // Campaign ids are unique in the log (each stream starts with its CampaignCreated), so one entry per campaign is the whole book.
    for (const { rules: _rules, earningsByBeneficiary, ...campaign } of from.campaigns) {
      // Snapshots taken before holds existed have no holdDays, and no campaign that held earnings then: 0.
      campaigns.set(campaign.campaignId, { ...campaign, holdDays: campaign.holdDays ?? 0, refundDays: campaign.refundDays, endedBySchedule: campaign.endedBySchedule && { ...campaign.endedBySchedule }, rules: [], earningsByBeneficiary: new Map(earningsByBeneficiary) });
    }
    const rules = from.campaigns.flatMap((state) => state.rules.map((rule) => compile(rule, campaigns.get(state.campaignId)!, rule.sequence)));
    for (const rule of rules) rule.campaign.rules.push(rule);
    for (const campaign of campaigns.values()) rerank(campaign);
    // Filed in order of addition, as the fold filed them: the index then holds them exactly as it did.
    for (const rule of rules.sort((a, b) => a.sequence - b.sequence)) index.add(rule, indexKeysOf(rule.conditions));
    sequence = from.nextSequence;
    for (const { eventId, matches, refundable, at } of from.pending) pending.set(eventId, { matches, refundable, at });
    for (const { eventId, amount, at, grants, refunds } of from.earned) {
      earned.set(eventId, { amount, at, grants, ...(refunds.length > 0 ? { refunds: new Map(refunds) } : {}) });
    }
    for (const { refundEventId, refundOf, amount, reversals } of from.pendingRefunds) pendingRefunds.set(refundEventId, { refundOf, counted: { amount, reversals } });
    newestAt = from.newestAt;
  }

  const count = ({ campaignId, beneficiaryId, amount }: Pick<Match, 'campaignId' | 'beneficiaryId' | 'amount'>, sign: 1 | -1): void => {
    const campaign = campaigns.get(campaignId);
    if (!campaign) return;
    campaign.granted += sign * amount;
    campaign.earningsByBeneficiary.set(beneficiaryId, (campaign.earningsByBeneficiary.get(beneficiaryId) ?? 0) + sign);
  };

  /**
   * A reversal gives its amount back to the budget; one that leaves nothing of
   * the earning gives back its place under the beneficiary's limit too, since
   * an earning reversed in full counts for nothing.
   */
  const countRefund = ({ reversals }: CountedRefund, sign: 1 | -1): void => {
    for (const reversal of reversals) {
      const campaign = campaigns.get(reversal.campaignId);
      if (!campaign) continue;
      campaign.granted -= sign * reversal.amount;
      if (reversal.remaining <= 0) {
        campaign.earningsByBeneficiary.set(reversal.beneficiaryId, (campaign.earningsByBeneficiary.get(reversal.beneficiaryId) ?? 0) - sign);
      }
    }
  };

  /** The earnings the book knows of for an event, as its decision (recorded or from the log) says. */
  const setGrants = (eventId: string, grants: readonly Match[], amount: number | null, at: number | null): void => {
    const known = earned.get(eventId);
    if (known) return void (known.grants = grants);
    const entry = { amount, at, grants };
    // Not brought back once forgotten (its decision came back after the book's time passed its windows): every run forgets alike.
    if (grants.length > 0 && !(newestAt !== null && forgettable(entry, newestAt))) earned.set(eventId, entry);
  };

  /** Until when a refund may reverse this grant of an event registered at `at` (epoch ms). */
  const reversibleUntil = (grant: Match, at: number | null): number => {
    const days = campaigns.get(grant.campaignId)?.refundDays ?? null;
    return at === null || days === null ? Infinity : at + days * DAY_MS;
  };

  /**
   * A tracked event registered at `at` moves the book's time on. Once a day of
   * it, what no refund may reverse any more is forgotten: the book holds only
   * what its campaigns' refund windows keep open. It depends on the log alone
   * (registration times, in log order), so every run and replay forgets alike.
   */
  const observe = (moment: number | null): void => {
    if (moment === null || !Number.isFinite(moment) || (newestAt !== null && moment <= newestAt)) return;
    const newDay = newestAt === null || Math.floor(moment / DAY_MS) > Math.floor(newestAt / DAY_MS);
    newestAt = moment;
    if (!newDay) return;
    for (const [eventId, entry] of earned) if (forgettable(entry, moment)) earned.delete(eventId);
  };

  /** No refund registered at `moment` or later may reverse anything of it (a day's margin for clocks that disagree). */
  const forgettable = (entry: Earned, moment: number): boolean =>
    Math.max(...entry.grants.map((grant) => reversibleUntil(grant, entry.at)), entry.at ?? Infinity) + DAY_MS < moment;

  /** Replaces what a refund counted (by `recordRefund`, or an earlier decision) with `refund`, or with nothing. */
  const setRefund = (refundEventId: string, refundOf: string, refund: CountedRefund | undefined): void => {
    const target = earned.get(refundOf);
    const earlier = target?.refunds?.get(refundEventId);
    if (earlier) {
      countRefund(earlier, -1);
      target!.refunds!.delete(refundEventId);
    }
    if (!refund) return;
    // Its reversals count even when the book knows nothing of the event it refunds (forgotten, or another version decided it).
    countRefund(refund, 1);
    if (target) (target.refunds ??= new Map()).set(refundEventId, refund);
  };

  /** A refund's decision came back through the log (or another replaced it): what `recordRefund` counted goes. */
  const settleRefund = (refundEventId: string): void => {
    const counted = pendingRefunds.get(refundEventId);
    if (!counted) return;
    countRefund(counted.counted, -1);
    earned.get(counted.refundOf)?.refunds?.delete(refundEventId);
    pendingRefunds.delete(refundEventId);
  };

  /**
   * Active, and inside its window at that moment. The schedule's transitions
   * land in the log a tick after startsAt / endsAt, and an event registered
   * just before may land after them: the window, judged at the event's
   * registration time, is what counts on both sides.
   */
  const inForce = (campaign: CampaignInForce, at: number, status: CampaignStatus = campaign.status): boolean => {
    const { startsAt, endsAt } = campaign;
    if (endsAt !== null && at >= endsAt) return false;
    const before = startsAt !== null && at < startsAt;
    switch (status) {
      case 'scheduled':
        return startsAt !== null && !before;
      case 'active':
        return !(before && campaign.activatedBySchedule);
      case 'paused':
        return false;
      case 'ended':
        // Ended by the schedule at endsAt: an event registered before then counts as the campaign stood.
        return campaign.endedBySchedule !== null && endsAt !== null && campaign.endedBySchedule.before !== 'ended' && inForce(campaign, at, campaign.endedBySchedule.before);
    }
  };

  /** Whether this rule can grant to this document now, and how much; or why not. */
  const grant = (rule: CompiledRule, document: JsonObject): { beneficiaryId: string; amount: Minor } | { reason: string; final?: boolean } => {
    const { campaign } = rule;
    const beneficiary = valueAtKeys(document, rule.beneficiaryKeys);
    if (typeof beneficiary !== 'string' && typeof beneficiary !== 'number') {
      return { reason: `rule ${rule.ruleId} matched but the document has no beneficiary at "${rule.beneficiary}"` };
    }
    const beneficiaryId = String(beneficiary);
    const max = rule.limits.maxPerBeneficiary;
    if (max !== null && (campaign.earningsByBeneficiary.get(beneficiaryId) ?? 0) >= max) {
      return { reason: `rule ${rule.ruleId} matched but ${beneficiaryId} reached its limit of ${max}` };
    }
    const reward = rewardFor(rule.reward, document, campaign.currency);
    if ('skip' in reward) return { reason: `rule ${rule.ruleId} matched but ${reward.skip}` };
    if (campaign.budget === null) return { beneficiaryId, amount: reward.amount };
    const left = campaign.budget - campaign.granted;
    if (left <= 0) return { reason: 'budget exhausted', final: true };
    return { beneficiaryId, amount: Math.min(reward.amount, left) };
  };

  return {
    apply(event) {
      switch (event.type) {
        case 'CampaignCreated': {
          const { campaignId, currency, status, budget, startsAt, endsAt, holdDays = 0, refundDays = null } = event.data;
          campaigns.set(campaignId, {
            campaignId, ordinal: campaigns.size, currency, budget, holdDays, refundDays, status, rules: [], granted: 0, earningsByBeneficiary: new Map(),
            activatedBySchedule: false, endedBySchedule: null,
            startsAt: startsAt === null ? null : Date.parse(startsAt), endsAt: endsAt === null ? null : Date.parse(endsAt),
          });
          return;
        }
        case 'CampaignActivated':
        case 'CampaignPaused':
        case 'CampaignEnded': {
          const campaign = campaigns.get(event.data.campaignId);
          if (!campaign) return;
          const bySchedule = event.data.by === 'schedule';
          if (event.type === 'CampaignActivated') campaign.activatedBySchedule = bySchedule;
          if (event.type === 'CampaignEnded') campaign.endedBySchedule = bySchedule ? { before: campaign.status } : null;
          campaign.status = statusAfter(event)!;
          return;
        }
        case 'RuleMatched':
        case 'EventSkipped': {
          const { eventId } = event.data;
          const counted = pending.get(eventId);
          if (counted) {
            for (const match of counted.matches) count(match, -1);
            pending.delete(eventId);
            setGrants(eventId, [], null, null);
          }
          settleRefund(eventId);
          if (event.type === 'RuleMatched') {
            count(event.data, 1);
            const { eventId: _, ...match } = event.data;
            const grants = earned.get(eventId)?.grants ?? [];
            // The event's amount as recorded, when the log's decision grants where the book's did not (another version decided it).
            setGrants(eventId, [...grants.filter((grant) => grant.campaignId !== match.campaignId), match], counted?.refundable ?? null, counted?.at ?? null);
          }
          return;
        }
        case 'RefundApplied': {
          const { eventId, refundOf, amount, reversals } = event.data;
          settleRefund(eventId);
          setRefund(eventId, refundOf, { amount, reversals });
          return;
        }
        case 'RuleAdded': {
          const campaign = campaigns.get(event.data.campaignId);
          if (!campaign) return;
          const rule = compile(event.data, campaign, sequence++);
          campaign.rules.push(rule);
          rerank(campaign);
          index.add(rule, indexKeysOf(rule.conditions));
          return;
        }
        case 'RuleRemoved': {
          const campaign = campaigns.get(event.data.campaignId);
          const rule = campaign?.rules.find((candidate) => candidate.ruleId === event.data.ruleId);
          if (!campaign || !rule) return;
          campaign.rules = campaign.rules.filter((candidate) => candidate !== rule);
          rerank(campaign);
          index.remove(rule);
          return;
        }
      }
    },

    decide(document, at, earningIdFor) {
      const moment = Date.parse(at);
      const matches: Match[] = [];
      const reasonsByCampaign = new Map<string, string>();
      let done: CampaignInForce | undefined;
      for (const rule of index.candidates(document)) {
        if (rule.campaign === done || !inForce(rule.campaign, moment) || !rule.matches(document)) continue;
        const outcome = grant(rule, document);
        if ('amount' in outcome) {
          done = rule.campaign;
          const { campaignId, currency } = rule.campaign;
          matches.push({ campaignId, ruleId: rule.ruleId, earningId: earningIdFor(campaignId), beneficiaryId: outcome.beneficiaryId, amount: outcome.amount, currency });
        } else {
          // Only the first reason per campaign is kept: the highest-priority rule that matched.
          if (!reasonsByCampaign.has(rule.campaign.campaignId)) reasonsByCampaign.set(rule.campaign.campaignId, outcome.reason);
          if (outcome.final) done = rule.campaign;
        }
      }
      if (matches.length > 0) return { matches, reasons: [] };
      const reasons: SkipReason[] = [];
      for (const campaign of campaigns.values()) {
        if (!inForce(campaign, moment)) continue;
        reasons.push({ campaignId: campaign.campaignId, reason: reasonsByCampaign.get(campaign.campaignId) ?? 'no rule matched' });
      }
      return { matches, reasons: reasons.length > 0 ? reasons : [{ campaignId: null, reason: 'no active campaign' }] };
    },

    record(eventId, { matches }, refundable = null, at) {
      const earlier = pending.get(eventId);
      if (earlier) for (const match of earlier.matches) count(match, -1);
      for (const match of matches) count(match, 1);
      const moment = at === undefined ? null : Date.parse(at);
      pending.set(eventId, { matches, refundable, at: moment });
      setGrants(eventId, matches, refundable, moment);
      observe(moment);
    },

    hasEarned(eventId) {
      return (earned.get(eventId)?.grants.length ?? 0) > 0;
    },

    decideRefund(request, registered, at) {
      const target = earned.get(request.refundOf);
      if (!target || target.grants.length === 0) return decideRefund(request, undefined, registered);
      const moment = Date.parse(at);
      const open = target.grants.filter((grant) => !(moment > reversibleUntil(grant, target.at)));
      if (open.length === 0) return { kind: 'skipped', reason: `the refund window of every campaign that granted for event ${request.refundOf} has closed` };
      return decideRefund(request, { amount: target.amount, grants: open, refunds: target.refunds ?? NO_REFUNDS }, registered);
    },

    recordRefund(refundEventId, decision, at) {
      observe(at === undefined ? null : Date.parse(at));
      settleRefund(refundEventId);
      if (decision.kind === 'skipped') return;
      const counted = { amount: decision.amount, reversals: decision.reversals };
      setRefund(refundEventId, decision.refundOf, counted);
      pendingRefunds.set(refundEventId, { refundOf: decision.refundOf, counted });
    },

    explain(document, at) {
      const moment = Date.parse(at);
      const explanations: RuleExplanation[] = [];
      for (const campaign of campaigns.values()) {
        if (!inForce(campaign, moment)) continue;
        for (const rule of campaign.rules) {
          if (rule.matches(document)) {
            explanations.push({ campaignId: campaign.campaignId, ruleId: rule.ruleId, matched: true });
            continue;
          }
          rule.explainers ??= Object.entries(rule.conditions).map(([path, condition]) => [path, compileRecordedConditions({ [path]: condition })] as const);
          const failed = rule.explainers.find(([, matches]) => !matches(document));
          explanations.push({
            campaignId: campaign.campaignId, ruleId: rule.ruleId, matched: false,
            ...(failed ? { failedPath: `/conditions/${escapePointer(failed[0])}` } : {}),
          });
        }
      }
      return explanations;
    },

    holdDaysOf(campaignId) {
      return campaigns.get(campaignId)?.holdDays ?? 0;
    },

    snapshot() {
      const state: RuleBookState = {
        campaigns: [...campaigns.values()].map((campaign) => ({
          campaignId: campaign.campaignId, ordinal: campaign.ordinal, currency: campaign.currency, budget: campaign.budget, holdDays: campaign.holdDays, refundDays: campaign.refundDays,
          startsAt: exactly(campaign.startsAt), endsAt: exactly(campaign.endsAt), status: campaign.status,
          activatedBySchedule: campaign.activatedBySchedule, endedBySchedule: campaign.endedBySchedule && { ...campaign.endedBySchedule },
          granted: campaign.granted, earningsByBeneficiary: [...campaign.earningsByBeneficiary],
          rules: campaign.rules.map(({ ruleId, name, priority, conditions, reward, beneficiary, limits, sequence: order }) => ({
            ruleId, name, priority, conditions, reward, beneficiary, limits, sequence: order,
          })),
        })),
        nextSequence: sequence,
        pending: [...pending].map(([eventId, { matches, refundable, at }]) => ({ eventId, matches, refundable, at })),
        earned: [...earned].map(([eventId, { amount, at, grants, refunds }]) => ({ eventId, amount, at, grants, refunds: [...(refunds ?? NO_REFUNDS)] })),
        pendingRefunds: [...pendingRefunds].map(([refundEventId, { refundOf, counted }]) => ({ refundEventId, refundOf, ...counted })),
        newestAt,
      };
      return { version: RULE_BOOK_SNAPSHOT_VERSION, state };
    },
  };
};

/** JSON would write a window that is not a number (a date the log could not parse) as null, which means no window: refused rather than changed. */
const exactly = (moment: number | null): number | null => {
  if (moment !== null && !Number.isFinite(moment)) throw new RangeError(`a campaign window of ${moment} has no exact JSON form`);
  return moment;
};

export type Restored = { readonly ok: true; readonly book: RuleBook } | { readonly ok: false; readonly reason: string };

/** The book a snapshot was taken of, or why it cannot be read (another version, a damaged state). */
export const fromSnapshot = ({ version, state }: { readonly version: number; readonly state: unknown }): Restored => {
  const reading = readRuleBookSnapshot(version, state);
  return reading.ok ? { ok: true, book: createRuleBook(reading.state) } : reading;
};
