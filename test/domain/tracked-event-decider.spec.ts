import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import type { EventRegistered, Match } from '../../domain/tracked-event/tracked-event-events.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(trackedEventDecider);
const now = '2026-03-01T10:00:00.000Z';
const document = { type: 'purchase', merchantId: 'MERCHANT_001', customerId: 'C-1', amount: 150 };
const register = (doc: typeof document | Record<string, unknown> = document) => ({
  type: 'RegisterEvent' as const,
  data: { eventId: 'e1', eventType: 'purchase', occurredAt: now, document: doc as never, now },
});
const registered: EventRegistered = {
  type: 'EventRegistered',
  data: { eventId: 'e1', eventType: 'purchase', occurredAt: now, document, registeredAt: now },
};
const match: Match = { campaignId: 'c1', ruleId: 'r1', earningId: 'g1', beneficiaryId: 'C-1', amount: 500, currency: 'EUR' };

describe('tracked event decider', () => {
  it('registers a new tracked event', () => spec.given([]).when(register()).then([registered]));

  it('treats the same report again as a no-op (client retry)', () =>
    spec.given([registered]).when(register({ ...document })).then([]));

  it('treats the same report with keys in another order as the same', () =>
    spec.given([registered]).when(register({ amount: 150, customerId: 'C-1', merchantId: 'MERCHANT_001', type: 'purchase' })).then([]));

  it('refuses another body under the same id', () =>
    spec.given([registered]).when(register({ ...document, amount: 151 })).thenRefuses('conflict', '/id'));

  it('decides matches as one RuleMatched per campaign', () =>
    spec.given([registered]).when({ type: 'DecideEvent', data: { matches: [match, { ...match, campaignId: 'c2', earningId: 'g2' }], reasons: [] } })
      .then([
        { type: 'RuleMatched', data: { eventId: 'e1', ...match } },
        { type: 'RuleMatched', data: { eventId: 'e1', ...match, campaignId: 'c2', earningId: 'g2' } },
      ]));

  it('decides no match as EventSkipped with the reasons', () =>
    spec.given([registered]).when({ type: 'DecideEvent', data: { matches: [], reasons: [{ campaignId: 'c1', reason: 'no rule matched' }] } })
      .then([{ type: 'EventSkipped', data: { eventId: 'e1', reasons: [{ campaignId: 'c1', reason: 'no rule matched' }] } }]));

  it('never decides twice', () =>
    spec.given([registered, { type: 'EventSkipped', data: { eventId: 'e1', reasons: [] } }])
      .when({ type: 'DecideEvent', data: { matches: [match], reasons: [] } }).thenRefuses('conflict'));

  it('cannot decide an event that was never registered', () =>
    spec.given([]).when({ type: 'DecideEvent', data: { matches: [], reasons: [] } }).thenRefuses('not_found'));

  it('decides a refund as one RefundApplied with its reversals', () => {
    const reversal = { campaignId: 'c1', earningId: 'g1', beneficiaryId: 'C-1', amount: 200, currency: 'EUR', remaining: 300 };
    spec.given([registered]).when({ type: 'DecideRefund', data: { kind: 'applied', refundOf: 'p1', amount: 40, reversals: [reversal] } })
      .then([{ type: 'RefundApplied', data: { eventId: 'e1', refundOf: 'p1', amount: 40, reversals: [reversal] } }]);
  });

  it('decides a refund that reverses nothing as EventSkipped with its reason', () =>
    spec.given([registered]).when({ type: 'DecideRefund', data: { kind: 'skipped', reason: 'event p1 earned nothing to reverse' } })
      .then([{ type: 'EventSkipped', data: { eventId: 'e1', reasons: [{ campaignId: null, reason: 'event p1 earned nothing to reverse' }] } }]));

  it('never decides a refund twice', () =>
    spec.given([registered, { type: 'RefundApplied', data: { eventId: 'e1', refundOf: 'p1', amount: null, reversals: [] } }])
      .when({ type: 'DecideRefund', data: { kind: 'skipped', reason: 'x' } }).thenRefuses('conflict'));
});

