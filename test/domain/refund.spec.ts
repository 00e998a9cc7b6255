import { expect } from 'chai';
import { decideRefund, refundRequestOf, type CountedRefund, type Refundable, type RefundDecision } from '../../domain/earning/refund.ts';
import type { Match, Reversal } from '../../domain/tracked-event/tracked-event-events.ts';

const grant = (campaignId: string, amount: number): Match => ({
  campaignId, ruleId: `${campaignId}-rule`, earningId: `${campaignId}-earning`, beneficiaryId: 'C-1', amount, currency: 'EUR',
});
const purchase = (amount: number | null, grants: Match[], refunds: [string, CountedRefund][] = []): Refundable => ({ amount, grants, refunds: new Map(refunds) });

/** The reversals of a decision that must have been applied. */
const reversalsOf = (decision: RefundDecision | undefined): readonly Reversal[] => {
  if (decision?.kind !== 'applied') throw new Error(`expected an applied refund, got ${JSON.stringify(decision)}`);
  return decision.reversals;
};

/** Applies refunds one after the other, as the book does: each counts before the next is decided. */
const refundInTurn = (target: Refundable, amounts: (number | null)[]) => {
  const refunds = new Map(target.refunds);
  return amounts.map((amount, i) => {
    const decision = decideRefund({ refundOf: 'p1', amount }, { ...target, refunds }, true);
    if (decision.kind === 'applied') refunds.set(`r${i}`, decision);
    return decision;
  });
};

describe('refund decisions', () => {
  it('reverses every earning of the refunded event in full when no amount is given', () => {
    expect(decideRefund({ refundOf: 'p1', amount: null }, purchase(100, [grant('c1', 500), grant('c2', 120)]), true)).to.deep.equal({
      kind: 'applied', refundOf: 'p1', amount: null,
      reversals: [
        { campaignId: 'c1', earningId: 'c1-earning', beneficiaryId: 'C-1', amount: 500, currency: 'EUR', remaining: 0 },
        { campaignId: 'c2', earningId: 'c2-earning', beneficiaryId: 'C-1', amount: 120, currency: 'EUR', remaining: 0 },
      ],
    });
  });

  it('reverses the refunded share of the original amount, rounded half away from zero', () => {
    // 5.00 granted for 100; 30 refunded: 1.50. 3 cents granted for 100; 50 refunded: 1.5 cents, so 2.
    const [decision] = refundInTurn(purchase(100, [grant('c1', 500), grant('c2', 3)]), [30]);
    expect(decision).to.deep.include({ kind: 'applied', amount: 30 });
    expect(reversalsOf(decision).map(({ amount, remaining }) => [amount, remaining])).to.deep.equal([[150, 350], [1, 2]]);
    const [half] = refundInTurn(purchase(100, [grant('c2', 3)]), [50]);
    expect(reversalsOf(half)[0]!.amount).to.equal(2);
  });

  it('keeps partial refunds cumulative, so three refunds of a third reverse exactly the grant', () => {
    const decisions = refundInTurn(purchase(3, [grant('c1', 100)]), [1, 1, 1]);
    expect(decisions.map((d) => reversalsOf(d)[0]!.amount)).to.deep.equal([33, 34, 33]);
    expect(decisions.map((d) => reversalsOf(d)[0]!.remaining)).to.deep.equal([67, 33, 0]);
  });

  it('never reverses more than was granted: an over-refund takes what is left, the next is skipped', () => {
    const [first, over, after] = refundInTurn(purchase(100, [grant('c1', 500)]), [60, 60, 10]);
    expect(reversalsOf(first)[0]!.amount).to.equal(300);
    expect(reversalsOf(over)[0]).to.deep.include({ amount: 200, remaining: 0 });
    expect(after).to.deep.equal({ kind: 'skipped', reason: 'event p1 is refunded in full already' });
  });

  it('skips any refund after a refund in full', () => {
    const [, next] = refundInTurn(purchase(100, [grant('c1', 500)]), [null, 1]);
    expect(next).to.deep.equal({ kind: 'skipped', reason: 'event p1 is refunded in full already' });
  });

  it('counts a refund too small to reverse a minor unit, so small refunds add up', () => {
    const decisions = refundInTurn(purchase(1000, [grant('c1', 100)]), [4, 4, 4]);
    // 0.4, 0.8, 1.2 cents in all: 0, then 1, then 1 (nothing new).
    expect(decisions.map((d) => reversalsOf(d).map((r) => r.amount))).to.deep.equal([[], [1], []]);
  });

  it('computes shares of decimal amounts exactly', () => {
    // 0.1 + 0.2 of 0.3 is the whole, exactly: no float drift leaves a cent behind.
    const decisions = refundInTurn(purchase(0.3, [grant('c1', 999)]), [0.1, 0.2]);
    expect(decisions.map((d) => reversalsOf(d)[0]!.remaining)).to.deep.equal([666, 0]);
  });

  it('says why nothing is reversed: unknown, unmatched, no amount to take a share of', () => {
    expect(decideRefund({ refundOf: 'p1', amount: null }, undefined, false)).to.deep.equal({ kind: 'skipped', reason: 'event p1 is not registered before this refund' });
    expect(decideRefund({ refundOf: 'p1', amount: null }, undefined, true)).to.deep.equal({ kind: 'skipped', reason: 'event p1 earned nothing to reverse' });
    expect(decideRefund({ refundOf: 'p1', amount: 5 }, purchase(null, [grant('c1', 500)]), true)).to.deep.include({ kind: 'skipped' });
    expect(decideRefund({ refundOf: 'p1', amount: null }, purchase(null, [grant('c1', 500)]), true)).to.deep.include({ kind: 'applied' });
  });

  it('reads a refund from its document, and says what is wrong with one it cannot act on', () => {
    expect(refundRequestOf({ type: 'refund', refundOf: 'p1', amount: 2.5 })).to.deep.equal({ refundOf: 'p1', amount: 2.5 });
    expect(refundRequestOf({ type: 'refund', refundOf: 'p1' })).to.deep.equal({ refundOf: 'p1', amount: null });
    expect(refundRequestOf({ type: 'refund' })).to.have.property('invalid');
    expect(refundRequestOf({ type: 'refund', refundOf: 'p1', amount: -1 })).to.have.property('invalid');
  });
});
