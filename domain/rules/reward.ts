import { multiply, roundToScale, toDecimal } from '../decimal.ts';
import type { JsonObject } from '../json.ts';
import { MAX_MINOR, minorDigits, type Minor } from '../money.ts';
import { valueAt } from './document-path.ts';
import type { Reward } from './rule.ts';

export type RewardOutcome = { readonly amount: Minor } | { readonly skip: string };

/** What a matched rule grants for this document, in minor units, rounded to the currency's minor unit. */
export const rewardFor = (reward: Reward, document: JsonObject, currency: string): RewardOutcome => {
  switch (reward.type) {
    case 'fixed':
      return { amount: reward.amount };
    case 'percentage': {
      const base = valueAt(document, reward.of);
      if (typeof base !== 'number' || !Number.isFinite(base)) return { skip: `no number at "${reward.of}" to take ${reward.rate * 100}% of` };
      let amount = Number(roundToScale(multiply(toDecimal(base), toDecimal(reward.rate)), minorDigits(currency)));
      if (reward.cap !== null) amount = Math.min(amount, reward.cap);
      if (amount > MAX_MINOR) return { skip: `the reward for "${reward.of}" = ${base} is beyond the largest amount Tally grants` };
      return amount > 0 ? { amount } : { skip: `the reward comes to ${amount} at "${reward.of}" = ${base}` };
    }
  }
};
