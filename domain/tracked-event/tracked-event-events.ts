import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';

export type EventRegistered = {
  readonly type: 'EventRegistered';
  readonly data: {
    readonly eventId: string;
    /** The client's kind of business fact (`purchase`, `refund`); null when not given. */
    readonly eventType: string | null;
    readonly occurredAt: string;
    /** The body as the client sent it, without `id`: what conditions are evaluated against. */
    readonly document: JsonObject;
    readonly registeredAt: string;
  };
};

export interface Match {
  readonly campaignId: string;
  readonly ruleId: string;
  readonly earningId: string;
  readonly beneficiaryId: string;
  readonly amount: Minor;
  readonly currency: string;
}

export type RuleMatched = { readonly type: 'RuleMatched'; readonly data: Match & { readonly eventId: string } };

export interface SkipReason {
  /** Null when the reason is not about one campaign (no campaign was active). */
  readonly campaignId: string | null;
  readonly reason: string;
}

export type EventSkipped = { readonly type: 'EventSkipped'; readonly data: { readonly eventId: string; readonly reasons: readonly SkipReason[] } };

export type TrackedEventEvent = EventRegistered | RuleMatched | EventSkipped;

export const trackedEventStream = (eventId: string): string => `tracked-event-${eventId}`;
