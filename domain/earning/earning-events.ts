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

export type EarningEvent = EarningGranted | EarningApproved;

export const EARNING_EVENT_TYPES: readonly EarningEvent['type'][] = ['EarningGranted', 'EarningApproved'];

export const earningStream = (earningId: string): string => `earning-${earningId}`;
