import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import type { EarningEvent } from './earning-events.ts';
import { approvedOnGrant, approvesAtOf } from './hold.ts';

export type EarningState =
  | { readonly status: 'none' }
  | { readonly status: 'pending'; readonly earningId: string; readonly approvesAt: string }
  | { readonly status: 'approved'; readonly earningId: string; readonly approvedAt: string };

/** `now` is passed in: the domain never reads the clock. */
export type EarningCommand = { readonly type: 'ApproveEarning'; readonly data: { readonly now: string } };

const decide = (command: EarningCommand, state: EarningState): EarningEvent[] => {
  if (state.status === 'none') throw new DomainError('not_found', 'earning not found');
  // Approved already (by its own grant, or by an earlier tick of this or another instance): nothing to do.
  if (state.status === 'approved') return [];
  // Not due yet: a tick that came early changes nothing, and the next one tries again.
  if (Date.parse(command.data.now) < Date.parse(state.approvesAt)) return [];
  return [{ type: 'EarningApproved', data: { earningId: state.earningId, approvedAt: command.data.now } }];
};

const evolve = (state: EarningState, event: EarningEvent): EarningState => {
  switch (event.type) {
    case 'EarningGranted': {
      const { earningId, grantedAt } = event.data;
      return approvedOnGrant(event.data)
        ? { status: 'approved', earningId, approvedAt: grantedAt }
        : { status: 'pending', earningId, approvesAt: approvesAtOf(event.data) };
    }
    case 'EarningApproved':
      return state.status === 'none' ? state : { status: 'approved', earningId: state.earningId, approvedAt: event.data.approvedAt };
  }
};

export const earningDecider: Decider<EarningState, EarningCommand, EarningEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
