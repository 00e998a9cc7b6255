import type { Minor } from '../money.ts';
import type { Conditions } from './conditions.ts';

/** Amounts are in the campaign currency's minor unit. */
export type Reward =
  | { readonly type: 'fixed'; readonly amount: Minor }
  | {
      readonly type: 'percentage';
      /** A decimal number kept as written (`0.05`), so that no float ever enters the sum. */
      readonly rate: number;
      /** Document path of the base amount, in the campaign currency's major unit. */
      readonly of: string;
      readonly cap: Minor | null;
    };

export interface RuleLimits {
  /** Most earnings one beneficiary may get from the campaign while this rule is the one matching. */
  readonly maxPerBeneficiary: number | null;
}

export interface Rule {
  readonly ruleId: string;
  readonly name: string;
  /** Higher goes first within its campaign. */
  readonly priority: number;
  readonly conditions: Conditions;
  readonly reward: Reward;
  /** Document path naming who earns. */
  readonly beneficiary: string;
  readonly limits: RuleLimits;
}
