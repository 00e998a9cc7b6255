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
  };
};

export type EarningEvent = EarningGranted;

export const earningStream = (earningId: string): string => `earning-${earningId}`;
