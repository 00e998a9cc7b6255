import type { EarningReversed } from '../earning/earning-events.ts';
import type { Minor } from '../money.ts';

/** Which step of an earning's life a message is about (issue 11). */
export type Lifecycle = 'granted' | 'approved' | 'reversed';

/**
 * A step that a customer hears of, with what that step alone knows: the
 * approved amount (the grant less what was reversed before the approval), or
 * the reversal itself. Money in minor units, as in the log.
 */
export type EarningStep =
  | { readonly lifecycle: 'granted' }
  | { readonly lifecycle: 'approved'; readonly amount: Minor; readonly approvedAt: string }
  | { readonly lifecycle: 'reversed'; readonly reversal: EarningReversed['data'] };
