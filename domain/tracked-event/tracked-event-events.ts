import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';

export type EventRegistered = {
  readonly type: 'EventRegistered';
  readonly data: {
    readonly eventId: string;
    /** The client's kind of business fact (`purchase`, `refund`); null when not given. */
    readonly eventType: string | null;
    readonly occurredAt: string;
    /** The body as the client sent it, without `id`: what conditions are evaluated against. */
    readonly document: JsonObject;
    readonly registeredAt: string;
  };
};

export interface Match {
  readonly campaignId: string;
  readonly ruleId: string;
  readonly earningId: string;
  readonly beneficiaryId: string;
  readonly amount: Minor;
  readonly currency: string;
}

export type RuleMatched = { readonly type: 'RuleMatched'; readonly data: Match & { readonly eventId: string } };

export interface SkipReason {
  /** Null when the reason is not about one campaign (no campaign was active). */
  readonly campaignId: string | null;
  readonly reason: string;
}

export type EventSkipped = { readonly type: 'EventSkipped'; readonly data: { readonly eventId: string; readonly reasons: readonly SkipReason[] } };

/** One earning of the refunded event, and how much of it a refund takes back. */
export interface Reversal {
  readonly campaignId: string;
  readonly earningId: string;
  readonly beneficiaryId: string;
  /** Taken back by this refund, in minor units; more than 0. */
  readonly amount: Minor;
  readonly currency: string;
  /** What is left of the earning after this refund and every one before it. */
  readonly remaining: Minor;
}

/**
 * The decision for a refund (a tracked event of type `refund`): the earnings
 * granted for `refundOf`, every campaign's, and what it takes back of each.
 * `amount` is the refunded amount as the client gave it, in the units of the
 * refunded event's own `amount`; null for a refund in full. Reversals may be
 * empty when the share refunded so far still rounds to what was reversed
 * before (a refund of a few cents of a large purchase): the amount counts
 * towards the next refund of the same event all the same.
 */
export type RefundApplied = {
  readonly type: 'RefundApplied';
  readonly data: {
    readonly eventId: string;
    readonly refundOf: string;
    readonly amount: number | null;
    readonly reversals: readonly Reversal[];
  };
};

export type TrackedEventEvent = EventRegistered | RuleMatched | EventSkipped | RefundApplied;

/** The `type` of a tracked event that refunds another (`refundOf`): decided as a refund, never against the rules. */
export const REFUND_TYPE = 'refund';

export const trackedEventStream = (eventId: string): string => `tracked-event-${eventId}`;
