import { earningStream, type EarningApproved, type EarningGranted, type EarningReversed } from '../../domain/earning/earning-events.ts';
import type { Minor } from '../../domain/money.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';

/**
 * Earning events written as the rule engine and the approvals reactor would
 * write them, so that tests of what follows them (messages) do not depend on
 * how refunds are decided. Each answers the position of its append.
 */
export const handMadeEarnings = (store: EventStore) => ({
  grant: async (data: EarningGranted['data']): Promise<string> => {
    const event: EarningGranted = { type: 'EarningGranted', data };
    return (await store.appendToStream(earningStream(data.earningId), [toEventToAppend(event)], { expectedRevision: 'no_stream' })).position;
  },
  approve: async (earningId: string, approvedAt: string): Promise<string> => {
    const event: EarningApproved = { type: 'EarningApproved', data: { earningId, approvedAt } };
    return (await store.appendToStream(earningStream(earningId), [toEventToAppend(event)], { expectedRevision: 'stream_exists' })).position;
  },
  /** Takes `amount` of what `grant` has left after earlier reversals (`remaining` is computed by the caller: a test says what it expects). */
  reverse: async (grant: EarningGranted['data'], refundEventId: string, amount: Minor, remaining: Minor, reversedAt: string, reason = `refund ${refundEventId}`): Promise<string> => {
    const { earningId, eventId, campaignId, beneficiaryId, currency } = grant;
    const event: EarningReversed = { type: 'EarningReversed', data: { earningId, eventId, refundEventId, campaignId, beneficiaryId, amount, currency, remaining, reason, reversedAt } };
    return (await store.appendToStream(earningStream(earningId), [toEventToAppend(event)], { expectedRevision: 'stream_exists' })).position;
  },
});
