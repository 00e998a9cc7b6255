import { earningDecider } from '../../domain/earning/earning-decider.ts';
import type { EarningApproved, EarningGranted } from '../../domain/earning/earning-events.ts';
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
});
