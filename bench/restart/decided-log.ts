import { randomUUID } from 'node:crypto';
import type { CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { campaignStream } from '../../domain/campaign/campaign-events.ts';
import { earningStream } from '../../domain/earning/earning-events.ts';
import type { JsonObject } from '../../domain/json.ts';
import type { Reward } from '../../domain/rules/rule.ts';
import { createRuleBook, type RuleBookEvent } from '../../domain/rules/rule-book.ts';
import { trackedEventStream } from '../../domain/tracked-event/tracked-event-events.ts';
import type { EventStore, EventToAppend, StreamAppend } from '../../infrastructure/event-store/event-store.ts';
import { generateEvent, generateRules, seededRandom, toMongoQuery, type BenchRule } from '../matcher/rule-set.ts';

/**
 * A log as months of traffic leave it: 10 campaigns with 1,000 rules of the
 * matcher bench's mix that name merchants (fixed and percentage rewards, some with a limit per
 * beneficiary, three campaigns with a budget that runs out), rules removed and
 * added and a campaign paused and resumed along the way, and `trackedEvents`
 * purchases from 10,000 customers, each registered and decided (RuleMatched
 * or EventSkipped, decided by the rule book itself, so the log says what the
 * engine would have said) and each match granted (EarningGranted).
 *
 * Written fast: a registration and its decision go to their stream in one
 * append, a thousand tracked events with their grants per `appendToStreams`,
 * two calls in flight while the next thousand are decided.
 */
const CAMPAIGNS = 10;
const RULES = 1_000;
const TRACKED_PER_CALL = 1_000;
const CALLS_IN_FLIGHT = 2;
const START = Date.parse('2026-01-01T00:00:00.000Z');

export interface DecidedLog {
  readonly trackedEvents: number;
  /** Every event in the log. */
  readonly events: number;
  readonly matches: number;
  readonly skipped: number;
  readonly head: string;
}

const campaignIdOf = (index: number): string => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

export const buildDecidedLog = async (store: EventStore, trackedEvents: number, progress: (message: string) => void): Promise<DecidedLog> => {
  const random = seededRandom(11);
  const book = createRuleBook();
  const at = (n: number): string => new Date(START + n * 50).toISOString();
  let events = 0;

  /** Campaign events go to the log one stream append each, and into the book that decides. */
  const campaign = async (campaignId: string, changes: readonly CampaignEvent[]): Promise<void> => {
    await store.appendToStream(campaignStream(campaignId), changes.map((event) => ({ type: event.type, data: event.data as JsonObject, metadata: { actor: 'api:admin', schemaVersion: 1 } })), { expectedRevision: 'any' });
    for (const event of changes) book.apply(event);
    events += changes.length;
  };
  const reward = (): Reward =>
    random() < 0.7
      ? { type: 'fixed', amount: 100 + Math.floor(random() * 900) }
      : { type: 'percentage', rate: [0.01, 0.02, 0.05][Math.floor(random() * 3)]!, of: 'amount', cap: 2_000 };
  const ruleAdded = (campaignId: string, rule: BenchRule, ruleId: string, n: number): CampaignEvent => ({
    type: 'RuleAdded',
    data: {
      campaignId, ruleId, name: ruleId, priority: rule.priority, conditions: toMongoQuery(rule), reward: reward(), beneficiary: 'customerId',
      limits: { maxPerBeneficiary: random() < 0.2 ? 1 + Math.floor(random() * 5) : null }, addedAt: at(n),
    },
  });

  // The mix's broad rules (5%, any merchant) are left out: ten campaigns of them would grant nearly every purchase
  // in nearly every campaign. With merchant-pinned rules only, about one purchase in two earns, in one campaign or two.
  const rules = generateRules(RULES * 2, seededRandom(1)).filter((rule) => rule.conditions.some((condition) => condition.field === 'merchantId')).slice(0, RULES);
  for (let c = 0; c < CAMPAIGNS; c++) {
    const campaignId = campaignIdOf(c);
    const created: CampaignEvent = {
      type: 'CampaignCreated',
      data: {
        campaignId, name: `campaign ${c}`, description: null, currency: 'EUR', budget: c < 3 ? (c + 1) * 5_000_000 : null,
        startsAt: null, endsAt: null, status: 'active', createdAt: at(0),
      },
    };
    const own = rules.slice((c * RULES) / CAMPAIGNS, ((c + 1) * RULES) / CAMPAIGNS);
    await campaign(campaignId, [created, ...own.map((rule) => ruleAdded(campaignId, rule, `rule-${rule.ruleId}`, 0))]);
  }

  /** Half-way: rules removed from one campaign, added to another, a third paused; resumed at three quarters. */
  const changesAt = async (n: number): Promise<void> => {
    if (n === Math.floor(trackedEvents / 2)) {
      await campaign(campaignIdOf(8), rules.slice(800, 820).map((rule) => ({ type: 'RuleRemoved', data: { campaignId: campaignIdOf(8), ruleId: `rule-${rule.ruleId}`, removedAt: at(n) } })));
      await campaign(campaignIdOf(7), generateRules(20, seededRandom(2)).map((rule) => ruleAdded(campaignIdOf(7), rule, `rule-late-${rule.ruleId}`, n)));
      await campaign(campaignIdOf(9), [{ type: 'CampaignPaused', data: { campaignId: campaignIdOf(9), at: at(n), by: 'api' } }]);
    }
    if (n === Math.floor((trackedEvents * 3) / 4)) await campaign(campaignIdOf(9), [{ type: 'CampaignActivated', data: { campaignId: campaignIdOf(9), at: at(n), by: 'api' } }]);
  };

  let matches = 0;
  let skipped = 0;
  /** One tracked event as the command API registers it and the rule engine decides and grants it. */
  const decided = (n: number): StreamAppend[] => {
    const { id: _id, ...document } = generateEvent(n, random);
    const eventId = randomUUID();
    const registeredAt = at(n);
    const registration: EventToAppend & { id: string } = {
      id: randomUUID(), type: 'EventRegistered',
      data: { eventId, eventType: String(document.type), occurredAt: registeredAt, document, registeredAt },
      metadata: { correlationId: eventId, causationId: eventId, actor: 'api:admin', schemaVersion: 1 },
    };
    const decision = book.decide(document, registeredAt, () => randomUUID());
    book.record(eventId, decision);
    const outcome: RuleBookEvent[] =
      decision.matches.length > 0
        ? decision.matches.map((match) => ({ type: 'RuleMatched', data: { eventId, ...match } }))
        : [{ type: 'EventSkipped', data: { eventId, reasons: decision.reasons } }];
    // The decision comes straight after its registration in the log: the book counts it as the log has it.
    for (const event of outcome) book.apply(event);
    if (decision.matches.length > 0) matches += decision.matches.length;
    else skipped++;
    const byEngine = { correlationId: eventId, causationId: registration.id, actor: 'rule-engine', schemaVersion: 1 };
    return [
      {
        streamId: trackedEventStream(eventId),
        events: [registration, ...outcome.map((event) => ({ id: randomUUID(), type: event.type, data: event.data as JsonObject, metadata: byEngine }))],
        expectedRevision: 'no_stream',
      },
      ...decision.matches.map((match): StreamAppend => ({
        streamId: earningStream(match.earningId),
        events: [{ type: 'EarningGranted', data: { ...match, eventId, grantedAt: registeredAt }, metadata: byEngine }],
        expectedRevision: 'no_stream',
      })),
    ];
  };

  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let lastReport = started;
  for (let n = 0; n < trackedEvents; ) {
    const appends: StreamAppend[] = [];
    const end = Math.min(trackedEvents, n + TRACKED_PER_CALL);
    for (; n < end; n++) {
      await changesAt(n);
      appends.push(...decided(n));
    }
    events += appends.reduce((sum, append) => sum + append.events.length, 0);
    while (inFlight.size >= CALLS_IN_FLIGHT) await Promise.race(inFlight);
    const call: Promise<void> = store.appendToStreams(appends).then((results) => {
      const refused = results.find((result) => !result.ok);
      if (refused && !refused.ok) throw refused.error;
    });
    const tracked = call.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      progress(`  ${n.toLocaleString('en-US')} tracked events written (${Math.round(n / ((lastReport - started) / 1000)).toLocaleString('en-US')}/s)`);
    }
  }
  await Promise.all(inFlight);
  const head = await store.headPosition();
  if (!head) throw new Error('the log is empty');
  return { trackedEvents, events, matches, skipped, head };
};
