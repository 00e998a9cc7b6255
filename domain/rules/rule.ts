import type { Minor } from '../money.ts';
import type { Conditions } from './conditions.ts';

/** Amounts are in the campaign currency's minor unit. */
export type Reward = { readonly type: 'fixed'; readonly amount: Minor };

export interface Rule {
  readonly ruleId: string;
  readonly name: string;
  /** Higher goes first within its campaign. */
  readonly priority: number;
  readonly conditions: Conditions;
  readonly reward: Reward;
  /** Document path naming who earns. */
  readonly beneficiary: string;
}
