/**
 * Where an earning stands. A partial reversal leaves it pending or approved
 * (with less remaining); `reversed` is reversed in full, nothing remaining.
 */
export const EARNING_STATUSES = ['pending', 'approved', 'reversed'] as const;
export type EarningStatus = (typeof EARNING_STATUSES)[number];
