import type { Minor } from '../money.ts';
import type { Reward } from './rule.ts';

/** What a matched rule grants, in minor units. */
export const rewardAmount = (reward: Reward): Minor => {
  switch (reward.type) {
    case 'fixed':
      return reward.amount;
  }
};
