import type { Decider } from '../decider.ts';
import type { EarningEvent, EarningGranted } from './earning-events.ts';

export type EarningState = { readonly status: 'none' } | { readonly status: 'granted'; readonly earningId: string };

export type EarningCommand = { readonly type: 'GrantEarning'; readonly data: EarningGranted['data'] };

export const earningDecider: Decider<EarningState, EarningCommand, EarningEvent> = {
  // Granting is idempotent: the rule engine may ask again after a crash.
  decide: (command, state) => (state.status === 'none' ? [{ type: 'EarningGranted', data: command.data }] : []),
  evolve: (_state, event) => ({ status: 'granted', earningId: event.data.earningId }),
  initialState: () => ({ status: 'none' }),
};
