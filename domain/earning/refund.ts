import { add, compare, shareOf, toDecimal, type Decimal } from '../decimal.ts';
import type { JsonObject } from '../json.ts';
import type { Minor } from '../money.ts';
import type { Match, Reversal } from '../tracked-event/tracked-event-events.ts';

/** What a refund asks for: the tracked event it refunds, and how much of its `amount` (null: all of it). */
export interface RefundRequest {
  readonly refundOf: string;
  readonly amount: number | null;
}

/** One refund counted against a purchase: what it refunded and what it took back. */
export interface CountedRefund {
  readonly amount: number | null;
  readonly reversals: readonly Reversal[];
}

/** What refunds of one tracked event need to know: what it was worth, what it earned, what was refunded of it. */
export interface Refundable {
  /** The event's own `amount`: what a partial refund is a share of. Null when it has none (only a refund in full applies then). */
  readonly amount: number | null;
  /** One per campaign that granted for it. */
  readonly grants: readonly Match[];
  /** By refund event id, in the order counted. */
  readonly refunds: ReadonlyMap<string, CountedRefund>;
}

export type RefundDecision =
  | { readonly kind: 'applied'; readonly refundOf: string; readonly amount: number | null; readonly reversals: readonly Reversal[] }
  | { readonly kind: 'skipped'; readonly reason: string };

/** The `amount` of a tracked event, if it is one a share can be taken of. */
export const refundableAmount = (document: JsonObject): number | null => {
  const { amount } = document;
  return typeof amount === 'number' && Number.isFinite(amount) && amount > 0 ? amount : null;
};

/** A refund's own fields, or why the document is not a refund Tally can act on (POST /events refuses such bodies; older logs may hold them). */
export const refundRequestOf = (document: JsonObject): RefundRequest | { readonly invalid: string } => {
  const { refundOf, amount } = document;
  if (typeof refundOf !== 'string' || refundOf === '') return { invalid: 'a refund names the event it refunds in refundOf' };
  if (amount === undefined || amount === null) return { refundOf, amount: null };
  const refunded = refundableAmount({ amount });
  return refunded === null ? { invalid: 'a refund\u2019s amount must be a number above 0' } : { refundOf, amount: refunded };
};

const reversedOf = (refundable: Refundable, earningId: string): Minor => {
  let reversed = 0;
  for (const refund of refundable.refunds.values()) {
    for (const reversal of refund.reversals) if (reversal.earningId === earningId) reversed += reversal.amount;
  }
  return reversed;
};

/**
 * What a refund takes back of each earning of the refunded event. Partial
 * refunds are cumulative: after any number of them, each earning has lost
 * its grant × (everything refunded so far ÷ the event's amount), rounded to
 * the minor unit half away from zero, capped at the whole grant. So rounding
 * never drifts (three refunds of a third reverse the grant exactly), and
 * nothing is ever reversed twice. `refundable` is undefined when the event
 * earned nothing; `registered` says whether it was registered before the refund.
 */
export const decideRefund = (request: RefundRequest, refundable: Refundable | undefined, registered: boolean): RefundDecision => {
  const { refundOf } = request;
  if (!refundable) {
    return { kind: 'skipped', reason: registered ? `event ${refundOf} earned nothing to reverse` : `event ${refundOf} is not registered before this refund` };
  }
  const earlier = [...refundable.refunds.values()];
  const original = refundable.amount === null ? null : toDecimal(refundable.amount);
  const refundedBefore = earlier.reduce<Decimal>((sum, refund) => (refund.amount === null ? sum : add(sum, toDecimal(refund.amount))), toDecimal(0));
  if (earlier.some((refund) => refund.amount === null) || (original !== null && compare(refundedBefore, original) >= 0)) {
    return { kind: 'skipped', reason: `event ${refundOf} is refunded in full already` };
  }
  if (request.amount !== null && original === null) {
    return { kind: 'skipped', reason: `event ${refundOf} has no amount to take a share of; a refund without amount reverses it in full` };
  }
  const refunded = request.amount === null ? null : add(refundedBefore, toDecimal(request.amount));
  // Past the whole amount: the rest of every earning, and no more.
  const whole = refunded === null || compare(refunded, original!) >= 0;
  const reversals: Reversal[] = [];
  for (const grant of refundable.grants) {
    const due = whole ? grant.amount : Number(shareOf(BigInt(grant.amount), refunded!, original!));
    const amount = due - reversedOf(refundable, grant.earningId);
    if (amount <= 0) continue;
    const { campaignId, earningId, beneficiaryId, currency } = grant;
    reversals.push({ campaignId, earningId, beneficiaryId, amount, currency, remaining: grant.amount - due });
  }
  return { kind: 'applied', refundOf, amount: request.amount, reversals };
};

/** Why an earning was reversed, in words, for EarningReversed: from the refund's decision alone. */
export const reversalReason = (refundEventId: string, { refundOf, amount }: { readonly refundOf: string; readonly amount: number | null }): string =>
  amount === null ? `refund ${refundEventId} of event ${refundOf} in full` : `refund ${refundEventId} of ${amount} of event ${refundOf}'s amount`;
