import { earningDecider } from '../../domain/earning/earning-decider.ts';
import type { EarningApproved, EarningGranted, EarningReversed } from '../../domain/earning/earning-events.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(earningDecider);
const grantedAt = '2026-03-01T10:00:00.000Z';
const approvesAt = '2026-03-04T10:00:00.000Z';

const granted = (overrides: Partial<EarningGranted['data']> = {}): EarningGranted => ({
  type: 'EarningGranted',
  data: {
    earningId: 'e1', eventId: 't1', campaignId: 'c1', ruleId: 'r1', beneficiaryId: 'b1', amount: 500, currency: 'EUR',
    grantedAt, approvesAt, ...overrides,
  },
});
const approve = (now: string) => ({ type: 'ApproveEarning' as const, data: { now } });
const approved = (approvedAt: string): EarningApproved => ({ type: 'EarningApproved', data: { earningId: 'e1', approvedAt } });
const reversedAt = '2026-03-02T08:00:00.000Z';
const reverse = (refundEventId: string, amount: number) => ({ type: 'ReverseEarning' as const, data: { refundEventId, amount, reason: `refund ${refundEventId}`, now: reversedAt } });
const reversed = (refundEventId: string, amount: number, remaining: number): EarningReversed => ({
  type: 'EarningReversed',
  data: { earningId: 'e1', eventId: 't1', refundEventId, campaignId: 'c1', beneficiaryId: 'b1', amount, currency: 'EUR', remaining, reason: `refund ${refundEventId}`, reversedAt },
});

describe('earning decider', () => {
  it('approves a pending earning once its hold is over', () =>
    spec.given([granted()]).when(approve('2026-03-04T10:00:00.001Z')).then([approved('2026-03-04T10:00:00.001Z')]));

  it('approves exactly at approvesAt', () => spec.given([granted()]).when(approve(approvesAt)).then([approved(approvesAt)]));

  it('leaves an earning pending before approvesAt', () => spec.given([granted()]).when(approve('2026-03-04T09:59:59.999Z')).then([]));

  it('approves only once: a second approval, or a replay, changes nothing', () =>
    spec.given([granted(), approved(approvesAt)]).when(approve('2026-03-09T00:00:00.000Z')).then([]));

  it('writes nothing for a grant with no hold: it counts as approved when granted', () =>
    spec.given([granted({ approvesAt: grantedAt })]).when(approve('2026-03-09T00:00:00.000Z')).then([]));

  it('treats a grant written before holds existed (no approvesAt) as approved', () => {
    const { approvesAt: _, ...old } = granted().data;
    spec.given([{ type: 'EarningGranted', data: old }]).when(approve('2026-03-09T00:00:00.000Z')).then([]);
  });

  it('refuses to approve an earning that was never granted', () => spec.given([]).when(approve(approvesAt)).thenRefuses('not_found'));

  describe('reversals', () => {
    it('takes back part of a grant, saying what is left', () => spec.given([granted()]).when(reverse('r1', 200)).then([reversed('r1', 200, 300)]));

    it('reverses an approved earning too', () => spec.given([granted(), approved(approvesAt)]).when(reverse('r1', 500)).then([reversed('r1', 500, 0)]));

    it('reverses once per refund: a repeat after a crash appends nothing', () => spec.given([granted(), reversed('r1', 200, 300)]).when(reverse('r1', 200)).then([]));

    it('never takes back more than is left', () =>
      spec.given([granted(), reversed('r1', 400, 100)]).when(reverse('r2', 400)).then([reversed('r2', 100, 0)]));

    it('appends nothing once nothing is left', () => spec.given([granted(), reversed('r1', 500, 0)]).when(reverse('r2', 1)).then([]));

    it('approves the rest of a partly reversed earning when due', () =>
      spec.given([granted(), reversed('r1', 200, 300)]).when(approve(approvesAt)).then([approved(approvesAt)]));

    it('does not approve an earning reversed in full', () => spec.given([granted(), reversed('r1', 500, 0)]).when(approve(approvesAt)).then([]));

    it('refuses to reverse an earning that was never granted', () => spec.given([]).when(reverse('r1', 1)).thenRefuses('not_found'));
  });
});
