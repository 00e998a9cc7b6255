import { expect } from 'chai';
import fc from 'fast-check';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { refundableAmount, refundRequestOf, type RefundDecision } from '../../domain/earning/refund.ts';
import type { JsonObject } from '../../domain/json.ts';
import { createRuleBook, fromSnapshot, type Decision, type RuleBook, type RuleBookEvent } from '../../domain/rules/rule-book.ts';
import type { Reward } from '../../domain/rules/rule.ts';

const at = '2026-03-01T10:00:00.000Z';

type Step =
  | { readonly kind: 'campaign'; readonly budget: number | null; readonly refundDays: number | null }
  | { readonly kind: 'rule'; readonly campaign: number; readonly reward: Reward; readonly limit: number | null }
  /** `hours`: how long after the tracked event before it this one is registered (refund windows close, the book forgets). */
  | { readonly kind: 'purchase'; readonly customer: number; readonly cents: number; readonly hours: number }
  /** `target`: an earlier tracked event (a purchase or a refund) or, past them, one not registered yet; `share` in hundredths, null: in full. */
  | { readonly kind: 'refund'; readonly target: number; readonly share: number | null; readonly hours: number }
  /** The oldest decisions not yet in the log land there, as the engine's appends do some time after it decided. */
  | { readonly kind: 'settle'; readonly count: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('campaign' as const), budget: fc.option(fc.integer({ min: 0, max: 3_000 }), { freq: 2 }), refundDays: fc.option(fc.constantFrom(0, 1, 3), { freq: 2 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('rule' as const), campaign: fc.nat(), limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 2 }),
      reward: fc.oneof(
        fc.integer({ min: 1, max: 900 }).map((amount): Reward => ({ type: 'fixed', amount })),
        fc.constantFrom(0.05, 0.1, 0.333).map((rate): Reward => ({ type: 'percentage', rate, of: 'amount', cap: null })),
      ),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('purchase' as const), customer: fc.integer({ min: 0, max: 3 }), cents: fc.integer({ min: 1, max: 30_000 }), hours: fc.integer({ min: 0, max: 30 }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('refund' as const), target: fc.nat(), share: fc.option(fc.integer({ min: 1, max: 120 }), { freq: 3 }), hours: fc.integer({ min: 0, max: 30 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('settle' as const), count: fc.integer({ min: 1, max: 4 }) }), weight: 3 },
);

/** An entry of the log the book folds: a client's fact, or a decision event the engine appended. */
type Entry = { readonly kind: 'event'; readonly event: RuleBookEvent } | { readonly kind: 'registered'; readonly eventId: string; readonly document: JsonObject; readonly registeredAt: string };

type Outcome = { readonly purchase: Decision } | { readonly refund: RefundDecision };

/** What the rule engine does at an EventRegistered: decide with the book as it stands, and count at once. */
const decideAt = (book: RuleBook, eventId: string, document: JsonObject, at: string, registered: (id: string) => boolean): Outcome => {
  if (document.type === 'refund') {
    const request = refundRequestOf(document);
    if ('invalid' in request) throw new Error(request.invalid);
    const decision = book.decideRefund(request, book.hasEarned(request.refundOf) || registered(request.refundOf), at);
    book.recordRefund(eventId, decision, at);
    return { refund: decision };
  }
  const decision = book.decide(document, at, (campaignId) => `${eventId}/${campaignId}`);
  book.record(eventId, decision, refundableAmount(document), at);
  return { purchase: decision };
};

/** The decision events the engine appends for an outcome. */
const decisionEvents = (eventId: string, outcome: Outcome): RuleBookEvent[] => {
  if ('purchase' in outcome) {
    const { matches, reasons } = outcome.purchase;
    return matches.length > 0 ? matches.map((match) => ({ type: 'RuleMatched', data: { eventId, ...match } })) : [{ type: 'EventSkipped', data: { eventId, reasons } }];
  }
  const decision = outcome.refund;
  if (decision.kind === 'skipped') return [{ type: 'EventSkipped', data: { eventId, reasons: [{ campaignId: null, reason: decision.reason }] } }];
  return [{ type: 'RefundApplied', data: { eventId, refundOf: decision.refundOf, amount: decision.amount, reversals: decision.reversals } }];
};

/**
 * When the engine's decision events land in the log, back into the book: at
 * the `settle` steps as generated, right after each decision (a quiet
 * system), or only at the end (a long backlog). `restore`: the book is
 * rebuilt from its snapshot, through JSON, at every settle step, as after a restart.
 */
type Timing = { readonly settle: 'as-generated' | 'at-once' | 'at-end'; readonly restore?: boolean };

/** Through JSON text, as the snapshot is stored. */
const restored = (book: RuleBook): RuleBook => {
  const again = fromSnapshot(JSON.parse(JSON.stringify(book.snapshot())) as { version: number; state: unknown });
  if (!again.ok) throw new Error(`not restored: ${again.reason}`);
  return again.book;
};

/**
 * Runs the steps as the engine meets them: facts land in the log and are
 * decided at once; decisions land in the log as `timing` says, and are folded
 * back then. Returns every outcome and the log it made.
 */
const run = (steps: readonly Step[], timing: Timing) => {
  let book = createRuleBook();
  const log: Entry[] = [];
  const outcomes = new Map<string, Outcome>();
  const unsettled: string[] = [];
  const campaigns: string[] = [];
  const tracked: { id: string; cents: number | null }[] = [];
  const append = (event: RuleBookEvent) => {
    log.push({ kind: 'event', event });
    book.apply(event);
  };
  const settle = (count: number) => {
    for (const eventId of unsettled.splice(0, count)) for (const event of decisionEvents(eventId, outcomes.get(eventId)!)) append(event);
    if (timing.restore) book = restored(book);
  };
  let clock = Date.parse(at);
  const register = (eventId: string, document: JsonObject, hours: number) => {
    clock += hours * 3_600_000;
    const registeredAt = new Date(clock).toISOString();
    log.push({ kind: 'registered', eventId, document, registeredAt });
    const registered = new Set(tracked.map((each) => each.id));
    outcomes.set(eventId, decideAt(book, eventId, document, registeredAt, (id) => registered.has(id)));
    unsettled.push(eventId);
    if (timing.settle === 'at-once') settle(1);
  };
  steps.forEach((each, n) => {
    switch (each.kind) {
      case 'campaign': {
        const campaignId = `c${campaigns.length}`;
        campaigns.push(campaignId);
        const created: CampaignEvent = {
          type: 'CampaignCreated',
          data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget: each.budget, startsAt: null, endsAt: null, status: 'active', createdAt: at, ...(each.refundDays === null ? {} : { refundDays: each.refundDays }) },
        };
        return append(created);
      }
      case 'rule': {
        if (campaigns.length === 0) return;
        const campaignId = campaigns[each.campaign % campaigns.length]!;
        return append({ type: 'RuleAdded', data: { campaignId, ruleId: `r${n}`, name: 'r', priority: 0, conditions: { type: 'purchase' }, reward: each.reward, beneficiary: 'customerId', limits: { maxPerBeneficiary: each.limit }, addedAt: at } });
      }
      case 'purchase': {
        const eventId = `p${n}`;
        register(eventId, { type: 'purchase', customerId: `C${each.customer}`, amount: each.cents / 100 }, each.hours);
        tracked.push({ id: eventId, cents: each.cents });
        return;
      }
      case 'refund': {
        const eventId = `r${n}`;
        // Past the events registered so far: an id registered later, if ever (unknown where the refund stands).
        const target = tracked[each.target % (tracked.length + 1)];
        const refundOf = target?.id ?? `p${n + 1}`;
        const amount = each.share === null || target?.cents == null ? undefined : Math.max(1, Math.round((target.cents * each.share) / 100)) / 100;
        register(eventId, { type: 'refund', refundOf, ...(amount === undefined ? {} : { amount }) }, each.hours);
        tracked.push({ id: eventId, cents: null });
        return;
      }
      case 'settle':
        return timing.settle === 'as-generated' ? settle(each.count) : undefined;
    }
  });
  settle(unsettled.length);
  return { outcomes, log, book };
};

/** A fresh book folds a log from position zero, deciding each tracked event where it was registered, as an engine replaying what its checkpoint covers does. */
const replay = (log: readonly Entry[]) => {
  const book = createRuleBook();
  const outcomes = new Map<string, Outcome>();
  const registered = new Set<string>();
  for (const entry of log) {
    if (entry.kind === 'event') {
      book.apply(entry.event);
      continue;
    }
    outcomes.set(entry.eventId, decideAt(book, entry.eventId, entry.document, entry.registeredAt, (id) => registered.has(id)));
    registered.add(entry.eventId);
  }
  return { outcomes, book };
};

describe('refunds replay: decided from the log alone', () => {
  it('decides every purchase and refund the same, however late decisions come back, across restarts from snapshots, and replaying its own log', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), (steps) => {
        const first = run(steps, { settle: 'as-generated' });
        const campaigns = first.book.snapshot().state.campaigns;
        for (const timing of [{ settle: 'at-once' }, { settle: 'at-end' }, { settle: 'as-generated', restore: true }] as const) {
          const other = run(steps, timing);
          expect([...other.outcomes], JSON.stringify(timing)).to.deep.equal([...first.outcomes]);
          expect(other.book.snapshot().state.campaigns, JSON.stringify(timing)).to.deep.equal(campaigns);
        }
        const again = replay(first.log);
        expect([...again.outcomes]).to.deep.equal([...first.outcomes]);
        expect(again.book.snapshot().state.campaigns).to.deep.equal(campaigns);
        // Never more reversed than granted, and never less left than nothing.
        for (const campaign of first.book.snapshot().state.campaigns) expect(campaign.granted).to.be.at.least(0);
        for (const outcome of first.outcomes.values()) {
          if ('refund' in outcome && outcome.refund.kind === 'applied') for (const reversal of outcome.refund.reversals) expect(reversal.remaining).to.be.at.least(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grants exactly a budget of 50 to 200 purchases, gives exactly 20 back for 20 refunds, and grants those 20 to the next purchases', () => {
    const steps: Step[] = [
      { kind: 'campaign', budget: 5_000, refundDays: null },
      { kind: 'rule', campaign: 0, reward: { type: 'fixed', amount: 100 }, limit: null },
      ...Array.from({ length: 200 }, (_, n): Step => ({ kind: 'purchase', customer: n % 4, cents: 1_000, hours: 0 })),
      { kind: 'settle', count: 100 },
      // The first 50 purchases got the budget; refund 20 of them in full.
      ...Array.from({ length: 20 }, (_, n): Step => ({ kind: 'refund', target: n * 2, share: null, hours: 0 })),
      ...Array.from({ length: 60 }, (_, n): Step => ({ kind: 'purchase', customer: n % 4, cents: 1_000, hours: 0 })),
    ];
    const { outcomes, book } = run(steps, { settle: 'as-generated' });
    const granted = (ids: (id: string) => boolean) =>
      [...outcomes].filter(([id]) => ids(id)).flatMap(([, outcome]) => ('purchase' in outcome ? outcome.purchase.matches.map((match) => match.amount) : []));
    const first = granted((id) => Number(id.slice(1)) < 202);
    expect(first).to.have.length(50);
    expect(first.reduce((sum, amount) => sum + amount, 0)).to.equal(5_000);
    const reversed = [...outcomes.values()].flatMap((outcome) => ('refund' in outcome && outcome.refund.kind === 'applied' ? outcome.refund.reversals : []));
    expect(reversed.map((reversal) => reversal.amount)).to.deep.equal(Array(20).fill(100));
    expect(granted((id) => id.startsWith('p') && Number(id.slice(1)) > 222)).to.have.length(20);
    expect(book.snapshot().state.campaigns[0]!.granted).to.equal(5_000);
  });
});
