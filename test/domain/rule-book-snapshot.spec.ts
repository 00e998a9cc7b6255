import { expect } from 'chai';
import fc from 'fast-check';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import type { JsonObject } from '../../domain/json.ts';
import { RULE_BOOK_SNAPSHOT_VERSION } from '../../domain/rules/rule-book-snapshot.ts';
import { createRuleBook, fromSnapshot, type Decision, type RuleBook, type RuleBookEvent } from '../../domain/rules/rule-book.ts';
import type { Reward } from '../../domain/rules/rule.ts';

const minute = (n: number): string => new Date(Date.UTC(2026, 2, 1, 10, n)).toISOString();

/** Through JSON text, as the snapshot is stored. */
const restore = (book: RuleBook): RuleBook => {
  const restored = fromSnapshot(JSON.parse(JSON.stringify(book.snapshot())) as { version: number; state: unknown });
  if (!restored.ok) throw new Error(`not restored: ${restored.reason}`);
  return restored.book;
};

// ---------------------------------------------------------------- a history, as the log and the engine make one

type Step =
  | { readonly kind: 'campaign'; readonly budget: number | null; readonly status: 'active' | 'scheduled'; readonly window: readonly [number, number] | null }
  | { readonly kind: 'rule'; readonly campaign: number; readonly priority: number; readonly conditions: JsonObject; readonly reward: Reward; readonly limit: number | null }
  | { readonly kind: 'remove'; readonly campaign: number; readonly rule: number }
  | { readonly kind: 'transition'; readonly campaign: number; readonly type: 'CampaignActivated' | 'CampaignPaused' | 'CampaignEnded'; readonly by: 'api' | 'schedule' }
  | { readonly kind: 'track'; readonly document: JsonObject; readonly at: number }
  /** The decision events of an earlier tracked event come back through the log: as decided, or as another run decided it. */
  | { readonly kind: 'settle'; readonly which: number; readonly otherwise: boolean };

const conditions: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.constant({}),
  fc.constantFrom('M0', 'M1', 'M2').map((merchantId): JsonObject => ({ merchantId })),
  // Key order matters to `explain` (the first condition that fails): the amount before the merchant.
  fc.tuple(fc.constantFrom('M0', 'M1'), fc.integer({ min: 0, max: 300 })).map(([merchantId, $gte]): JsonObject => ({ amount: { $gte }, merchantId })),
  fc.constant<JsonObject>({ merchantId: { $in: ['M1', 'M2'] }, channel: 'web' }),
);
const reward: fc.Arbitrary<Reward> = fc.oneof(
  fc.integer({ min: 1, max: 2_000 }).map((amount) => ({ type: 'fixed' as const, amount })),
  fc.tuple(fc.constantFrom(0.05, 0.1, 0.07, 0.333), fc.option(fc.integer({ min: 1, max: 1_000 }))).map(([rate, cap]) => ({ type: 'percentage' as const, rate, of: 'amount', cap })),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('campaign' as const), budget: fc.option(fc.integer({ min: 0, max: 5_000 }), { freq: 2 }), status: fc.constantFrom('active' as const, 'active' as const, 'scheduled' as const), window: fc.option(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 21, max: 60 })), { freq: 2 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('rule' as const), campaign: fc.nat(), priority: fc.integer({ min: 0, max: 3 }), conditions, reward, limit: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('remove' as const), campaign: fc.nat(), rule: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('transition' as const), campaign: fc.nat(), type: fc.constantFrom('CampaignActivated' as const, 'CampaignPaused' as const, 'CampaignEnded' as const), by: fc.constantFrom('api' as const, 'schedule' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('track' as const),
      document: fc.record({ merchantId: fc.constantFrom('M0', 'M1', 'M2'), customerId: fc.constantFrom('C0', 'C1', 'C2'), amount: fc.integer({ min: 0, max: 50_000 }).map((cents) => cents / 100), channel: fc.constantFrom('web', 'app') }),
      at: fc.integer({ min: 0, max: 70 }),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant('settle' as const), which: fc.nat(), otherwise: fc.boolean() }), weight: 4 },
);

/** What the history has made so far: ids to refer to, tracked events not settled yet. */
interface World {
  readonly campaigns: string[];
  readonly rules: Map<string, string[]>;
  readonly unsettled: { eventId: string; decision: Decision }[];
  tracked: number;
}

/** The log events a step stands for, and the tracked event it asks to decide; the same whatever book folds them. */
const play = (step: Step, world: World): { events: RuleBookEvent[]; track?: { eventId: string; document: JsonObject; at: string } } => {
  const pick = <T>(items: readonly T[], n: number): T | undefined => items[n % Math.max(1, items.length)];
  switch (step.kind) {
    case 'campaign': {
      const campaignId = `c${world.campaigns.length}`;
      world.campaigns.push(campaignId);
      world.rules.set(campaignId, []);
      const [startsAt, endsAt] = step.window ? step.window.map(minute) : [null, null];
      return { events: [{ type: 'CampaignCreated', data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget: step.budget, startsAt: startsAt!, endsAt: endsAt!, status: step.status, createdAt: minute(0) } }] };
    }
    case 'rule': {
      const campaignId = pick(world.campaigns, step.campaign);
      if (!campaignId) return { events: [] };
      const rules = world.rules.get(campaignId)!;
      const ruleId = `${campaignId}-r${rules.length}`;
      rules.push(ruleId);
      return { events: [{ type: 'RuleAdded', data: { campaignId, ruleId, name: ruleId, priority: step.priority, conditions: step.conditions, reward: step.reward, beneficiary: 'customerId', limits: { maxPerBeneficiary: step.limit }, addedAt: minute(0) } }] };
    }
    case 'remove': {
      const campaignId = pick(world.campaigns, step.campaign);
      const ruleId = campaignId && pick(world.rules.get(campaignId)!, step.rule);
      return { events: campaignId && ruleId ? [{ type: 'RuleRemoved', data: { campaignId, ruleId, removedAt: minute(0) } }] : [] };
    }
    case 'transition': {
      const campaignId = pick(world.campaigns, step.campaign);
      return { events: campaignId ? [{ type: step.type, data: { campaignId, at: minute(0), by: step.by } } as CampaignEvent] : [] };
    }
    case 'track':
      return { events: [], track: { eventId: `e${world.tracked++}`, document: step.document, at: minute(step.at) } };
    case 'settle': {
      if (world.unsettled.length === 0) return { events: [] };
      const [{ eventId, decision }] = world.unsettled.splice(step.which % world.unsettled.length, 1) as [{ eventId: string; decision: Decision }];
      if (decision.matches.length === 0) return { events: [{ type: 'EventSkipped', data: { eventId, reasons: decision.reasons } }] };
      // Another run may have decided it otherwise: the log has the last word.
      const matches = step.otherwise ? decision.matches.slice(0, 1).map((match) => ({ ...match, amount: match.amount + 1 })) : decision.matches;
      return { events: matches.map((match) => ({ type: 'RuleMatched' as const, data: { eventId, ...match } })) };
    }
  }
};

/** Folds the step into each book, as the engine does; what each book decided and explained, for comparison. */
const fold = (books: readonly RuleBook[], step: Step, world: World): unknown[] => {
  const { events, track } = play(step, world);
  for (const event of events) for (const book of books) book.apply(event);
  if (!track) return books.map(() => null);
  const answers = books.map((book) => {
    const decision = book.decide(track.document, track.at, (campaignId) => `${track.eventId}/${campaignId}`);
    const explained = book.explain(track.document, track.at);
    book.record(track.eventId, decision);
    return { decision, explained };
  });
  world.unsettled.push({ eventId: track.eventId, decision: answers[0]!.decision });
  return answers;
};

describe('rule book snapshot', () => {
  it('restores a book that decides every later event as the book that folded the whole history (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 120, size: 'max' }), fc.nat(), (steps, cut) => {
        const at = cut % (steps.length + 1);
        const world: World = { campaigns: [], rules: new Map(), unsettled: [], tracked: 0 };
        const whole = createRuleBook();
        for (const s of steps.slice(0, at)) fold([whole], s, world);
        // Given a snapshot taken there, through its JSON text,
        const restored = restore(whole);
        expect(restored.snapshot()).to.deep.equal(whole.snapshot());
        // when both fold the rest of the history,
        for (const s of steps.slice(at)) {
          const [expected, actual] = fold([whole, restored], s, world);
          // then each later event is decided and explained alike, and the books end the same, to the byte.
          expect(actual).to.deep.equal(expected);
        }
        expect(JSON.stringify(restored.snapshot())).to.equal(JSON.stringify(whole.snapshot()));
      }),
      { numRuns: 300 },
    );
  });

  it('carries budgets spent, limits reached, removed rules, paused campaigns and uncounted decisions across', () => {
    const at = minute(0);
    const idFor = (campaignId: string) => `earning-${campaignId}`;
    const book = createRuleBook();
    const campaign = (campaignId: string, budget: number | null): RuleBookEvent => ({
      type: 'CampaignCreated', data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget, startsAt: null, endsAt: null, status: 'active', createdAt: at },
    });
    const rule = (campaignId: string, ruleId: string, priority: number, amount: number, maxPerBeneficiary: number | null = null): RuleBookEvent => ({
      type: 'RuleAdded', data: { campaignId, ruleId, name: ruleId, priority, conditions: {}, reward: { type: 'fixed', amount }, beneficiary: 'customerId', limits: { maxPerBeneficiary }, addedAt: at },
    });
    // Given a book that spent 900 of a 1,000 budget, gave C-1 its one welcome, lost a rule and paused a campaign,
    [campaign('budget', 1000), rule('budget', 'b', 0, 300), campaign('welcome', null), rule('welcome', 'once', 9, 50, 1), rule('welcome', 'gone', 5, 70), campaign('paused', null), rule('paused', 'p', 0, 10)].forEach((event) => book.apply(event));
    book.apply({ type: 'RuleRemoved', data: { campaignId: 'welcome', ruleId: 'gone', removedAt: at } });
    book.apply({ type: 'CampaignPaused', data: { campaignId: 'paused', at, by: 'api' } });
    const first = book.decide({ customerId: 'C-1' }, at, idFor);
    book.record('e1', first);
    for (const match of first.matches) book.apply({ type: 'RuleMatched', data: { eventId: 'e1', ...match } });
    // … and two decisions counted whose events have not come back yet.
    book.record('e2', book.decide({ customerId: 'C-2' }, at, idFor));
    book.record('e3', book.decide({ customerId: 'C-3' }, at, idFor));
    // When it is restored from its snapshot,
    const restored = restore(book);
    expect(restored.snapshot().state.pending.map((pending) => pending.eventId)).to.deep.equal(['e2', 'e3']);
    // then it decides what comes next exactly as the book itself.
    const next = (subject: RuleBook) => [
      subject.decide({ customerId: 'C-1' }, at, idFor),
      subject.decide({ customerId: 'C-4' }, at, idFor),
    ];
    expect(next(restored)).to.deep.equal(next(book));
    expect(next(restored)[0]).to.deep.equal({ matches: [{ campaignId: 'budget', ruleId: 'b', earningId: 'earning-budget', beneficiaryId: 'C-1', amount: 100, currency: 'EUR' }], reasons: [] });
    // The decision for e2 comes back otherwise (another run): both books count what the log says.
    for (const subject of [book, restored]) subject.apply({ type: 'EventSkipped', data: { eventId: 'e2', reasons: [] } });
    expect(next(restored)).to.deep.equal(next(book));
    expect(next(restored)[0]!.matches[0]?.amount).to.equal(300);
  });

  it('keeps money and rates exact through JSON', () => {
    const at = minute(0);
    const book = createRuleBook();
    // Given a budget near the largest amount Tally holds, a rate with no exact binary form, and 7,000,000,000,000 cents granted,
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'c', name: 'c', description: null, currency: 'EUR', budget: 999_999_999_999_999, startsAt: null, endsAt: null, status: 'active', createdAt: at } });
    book.apply({ type: 'RuleAdded', data: { campaignId: 'c', ruleId: 'r', name: 'r', priority: 0, conditions: {}, reward: { type: 'percentage', rate: 0.07, of: 'amount', cap: null }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: at } });
    book.record('e1', book.decide({ customerId: 'C', amount: 99_999_999_999.99 }, at, () => 'x'));
    // when restored,
    const restored = restore(book);
    // then what is granted and what is left come out to the cent.
    const [campaign] = restored.snapshot().state.campaigns;
    expect(campaign).to.deep.include({ budget: 999_999_999_999_999, granted: 700_000_000_000 });
    expect(campaign!.rules[0]!.reward).to.deep.equal({ type: 'percentage', rate: 0.07, of: 'amount', cap: null });
    // 7% of it is 999,999,999,999,994 cents, more than what is left: what is left, exactly.
    const decide = (subject: RuleBook) => subject.decide({ customerId: 'C', amount: 142_857_142_857_142 }, at, () => 'y').matches[0]?.amount;
    expect(decide(restored)).to.equal(999_999_999_999_999 - 700_000_000_000);
    expect(decide(restored)).to.equal(decide(book));
  });

  it('refuses a snapshot of another version, or one that is not what the book writes', () => {
    const book = createRuleBook();
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'c', name: 'c', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: minute(0) } });
    const { state } = JSON.parse(JSON.stringify(book.snapshot())) as { state: { campaigns: Record<string, unknown>[] } };
    expect(fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION + 1, state })).to.deep.include({ ok: false });
    expect(fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION, state })).to.deep.include({ ok: true });
    const damaged = (change: (campaign: Record<string, unknown>) => void): { ok: boolean; reason?: string } => {
      const copy = JSON.parse(JSON.stringify(state)) as { campaigns: Record<string, unknown>[] };
      change(copy.campaigns[0]!);
      return fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION, state: copy }) as { ok: boolean; reason?: string };
    };
    expect(damaged((campaign) => (campaign.granted = 1.5))).to.deep.equal({ ok: false, reason: '/campaigns/0/granted is not what the book writes there' });
    expect(damaged((campaign) => (campaign.status = 'gone'))).to.deep.equal({ ok: false, reason: '/campaigns/0/status is not what the book writes there' });
    expect(damaged((campaign) => (campaign.rules = [{ ruleId: 'r' }])).reason).to.match(/^\/campaigns\/0\/rules\/0\//);
    expect(fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION, state: 'garbage' })).to.deep.equal({ ok: false, reason: 'the state is not an object' });
  });

  it('carries holdDays, and reads a snapshot taken before holds existed (no holdDays) as holding nothing', () => {
    const book = createRuleBook();
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'held', name: 'h', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: minute(0), holdDays: 3 } });
    book.apply({ type: 'CampaignCreated', data: { campaignId: 'old', name: 'o', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: minute(0) } });
    expect([restore(book).holdDaysOf('held'), restore(book).holdDaysOf('old')]).to.deep.equal([3, 0]);
    const { state } = JSON.parse(JSON.stringify(book.snapshot())) as { state: { campaigns: Record<string, unknown>[] } };
    for (const campaign of state.campaigns) delete campaign.holdDays;
    const older = fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION, state });
    if (!older.ok) throw new Error(`not restored: ${older.reason}`);
    expect(older.book.holdDaysOf('held')).to.equal(0);
    expect(fromSnapshot({ version: RULE_BOOK_SNAPSHOT_VERSION, state: { ...state, campaigns: [{ ...state.campaigns[0], holdDays: -1 }] } })).to.deep.include({ ok: false });
  });
});
