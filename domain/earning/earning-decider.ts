import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import type { Minor } from '../money.ts';
import type { EarningEvent, EarningGranted } from './earning-events.ts';
import { approvedOnGrant, approvesAtOf } from './hold.ts';

interface Granted {
  readonly grant: EarningGranted['data'];
  /** Taken back so far, by every reversal. */
  readonly reversed: Minor;
  /** The refunds that reversed part of it: each reverses at most once. */
  readonly reversedBy: readonly string[];
}

/** `reversed`: reversed in full, nothing left of it; a partial reversal leaves it pending or approved. */
export type EarningState =
  | { readonly status: 'none' }
  | (Granted & { readonly status: 'pending' | 'reversed' })
  | (Granted & { readonly status: 'approved'; readonly approvedAt: string });

/** `now` is passed in: the domain never reads the clock. */
export type EarningCommand =
  | { readonly type: 'ApproveEarning'; readonly data: { readonly now: string } }
  | {
      readonly type: 'ReverseEarning';
      /** As the refund's decision (RefundApplied) has it; `amount` is capped at what is left. */
      readonly data: { readonly refundEventId: string; readonly amount: Minor; readonly reason: string; readonly now: string };
    };

const decide = (command: EarningCommand, state: EarningState): EarningEvent[] => {
  if (state.status === 'none') throw new DomainError('not_found', 'earning not found');
  switch (command.type) {
    case 'ApproveEarning': {
      // Approved already (by its own grant, or by an earlier tick of this or another instance), or reversed in full: nothing to do.
      if (state.status !== 'pending') return [];
      // Not due yet: a tick that came early changes nothing, and the next one tries again.
      if (Date.parse(command.data.now) < Date.parse(approvesAtOf(state.grant))) return [];
      return [{ type: 'EarningApproved', data: { earningId: state.grant.earningId, approvedAt: command.data.now } }];
    }
    case 'ReverseEarning': {
      const { refundEventId, reason, now } = command.data;
      // This refund reversed it already (a repeat after a crash, a second instance): once only.
      if (state.reversedBy.includes(refundEventId)) return [];
      const left = state.grant.amount - state.reversed;
      const amount = Math.min(command.data.amount, left);
      if (amount <= 0) return [];
      const { earningId, eventId, campaignId, beneficiaryId, currency } = state.grant;
      return [{
        type: 'EarningReversed',
        data: { earningId, eventId, refundEventId, campaignId, beneficiaryId, amount, currency, remaining: left - amount, reason, reversedAt: now },
      }];
    }
  }
};

const evolve = (state: EarningState, event: EarningEvent): EarningState => {
  switch (event.type) {
    case 'EarningGranted': {
      const granted: Granted = { grant: event.data, reversed: 0, reversedBy: [] };
      return approvedOnGrant(event.data) ? { ...granted, status: 'approved', approvedAt: event.data.grantedAt } : { ...granted, status: 'pending' };
    }
    case 'EarningApproved':
      return state.status === 'pending' ? { ...state, status: 'approved', approvedAt: event.data.approvedAt } : state;
    case 'EarningReversed': {
      if (state.status === 'none') return state;
      const reversed = { ...state, reversed: state.reversed + event.data.amount, reversedBy: [...state.reversedBy, event.data.refundEventId] };
      return event.data.remaining <= 0 ? { ...reversed, status: 'reversed' } : reversed;
    }
  }
};

export const earningDecider: Decider<EarningState, EarningCommand, EarningEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
