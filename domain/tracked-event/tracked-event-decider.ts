import { isDeepStrictEqual } from 'node:util';
import type { Decider } from '../decider.ts';
import { DomainError } from '../domain-error.ts';
import type { RefundDecision } from '../earning/refund.ts';
import type { JsonObject } from '../json.ts';
import type { Match, SkipReason, TrackedEventEvent } from './tracked-event-events.ts';

export type TrackedEventState =
  | { readonly status: 'none' }
  | { readonly status: 'pending' | 'decided'; readonly eventId: string; readonly eventType: string | null; readonly occurredAt: string; readonly document: JsonObject };

export type TrackedEventCommand =
  | {
      readonly type: 'RegisterEvent';
      readonly data: { readonly eventId: string; readonly eventType: string | null; readonly occurredAt: string; readonly document: JsonObject; readonly now: string };
    }
  | {
      readonly type: 'DecideEvent';
      /** Matches, or when there are none, the reasons nothing matched. */
      readonly data: { readonly matches: readonly Match[]; readonly reasons: readonly SkipReason[] };
    }
  | {
      /** For a refund: the earnings it takes back, or why it takes back nothing. */
      readonly type: 'DecideRefund';
      readonly data: RefundDecision;
    };

const decide = (command: TrackedEventCommand, state: TrackedEventState): TrackedEventEvent[] => {
  switch (command.type) {
    case 'RegisterEvent': {
      const { eventId, eventType, occurredAt, document, now } = command.data;
      if (state.status === 'none') {
        return [{ type: 'EventRegistered', data: { eventId, eventType, occurredAt, document, registeredAt: now } }];
      }
      // The same report again (a client retry) is a no-op; another report under the same id is a conflict.
      if (isDeepStrictEqual(state.document, document)) return [];
      throw new DomainError('conflict', `event ${eventId} was already registered with another body`, '/id');
    }
    case 'DecideEvent':
    case 'DecideRefund': {
      if (state.status === 'none') throw new DomainError('not_found', 'tracked event not found');
      if (state.status === 'decided') throw new DomainError('conflict', `event ${state.eventId} is already decided`);
      if (command.type === 'DecideRefund') {
        const decision = command.data;
        if (decision.kind === 'skipped') return [{ type: 'EventSkipped', data: { eventId: state.eventId, reasons: [{ campaignId: null, reason: decision.reason }] } }];
        const { refundOf, amount, reversals } = decision;
        return [{ type: 'RefundApplied', data: { eventId: state.eventId, refundOf, amount, reversals } }];
      }
      const { matches, reasons } = command.data;
      if (matches.length > 0) return matches.map((match) => ({ type: 'RuleMatched', data: { eventId: state.eventId, ...match } }));
      return [{ type: 'EventSkipped', data: { eventId: state.eventId, reasons } }];
    }
  }
};

const evolve = (state: TrackedEventState, event: TrackedEventEvent): TrackedEventState => {
  switch (event.type) {
    case 'EventRegistered':
      return { status: 'pending', ...event.data };
    case 'RuleMatched':
    case 'EventSkipped':
    case 'RefundApplied':
      return state.status === 'none' ? state : { ...state, status: 'decided' };
  }
};

export const trackedEventDecider: Decider<TrackedEventState, TrackedEventCommand, TrackedEventEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
