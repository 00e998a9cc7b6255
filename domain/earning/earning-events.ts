import type { Minor } from '../money.ts';

export type EarningGranted = {
  readonly type: 'EarningGranted';
  readonly data: {
    readonly earningId: string;
    readonly eventId: string;
    readonly campaignId: string;
    readonly ruleId: string;
    readonly beneficiaryId: string;
    readonly amount: Minor;
    readonly currency: string;
    readonly grantedAt: string;
    /**
     * grantedAt + the campaign's holdDays: until then the earning is pending.
     * Equal to grantedAt when the campaign holds nothing, and then the grant
     * counts as approved at once (no EarningApproved follows). Absent in events
     * written before holds existed, which means grantedAt.
     */
    readonly approvesAt?: string;
  };
};

/** The hold is over: the earning counts as approved from approvedAt on. At most one per earning. */
export type EarningApproved = {
  readonly type: 'EarningApproved';
  readonly data: { readonly earningId: string; readonly approvedAt: string };
};

/**
 * Part or all of the earning taken back, because the tracked event it was
 * granted for was refunded. Reversals of one earning never add up to more
 * than its grant; the last leaves `remaining` 0, and the earning is then
 * reversed in full (and counts for nothing: not pending, not approved).
 */
export type EarningReversed = {
  readonly type: 'EarningReversed';
  readonly data: {
    readonly earningId: string;
    /** The tracked event the earning was granted for, and the refund of it that caused this reversal. */
    readonly eventId: string;
    readonly refundEventId: string;
    readonly campaignId: string;
    readonly beneficiaryId: string;
    /** Taken back by this reversal, in minor units; more than 0. */
    readonly amount: Minor;
    readonly currency: string;
    /** What is left of the grant after this reversal and every one before it. */
    readonly remaining: Minor;
    /** Why, in words: the refund and the share of the original amount it refunded. */
    readonly reason: string;
    readonly reversedAt: string;
  };
};

export type EarningEvent = EarningGranted | EarningApproved | EarningReversed;

export const EARNING_EVENT_TYPES: readonly EarningEvent['type'][] = ['EarningGranted', 'EarningApproved', 'EarningReversed'];

export const earningStream = (earningId: string): string => `earning-${earningId}`;
