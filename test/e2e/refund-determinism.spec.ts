import { expect } from 'chai';
import { RULE_ENGINE_CHECKPOINT, startRuleEngine } from '../../commands/reactors/rule-engine.ts';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { createCheckpoints } from '../../infrastructure/postgres/checkpoints.ts';
import { createKnex } from '../../infrastructure/postgres/database.ts';
import { runTally } from '../support/running-tally.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

/** What the rule engine (and only it) writes: a fresh engine must write the same from the rest of the log. */
const ENGINE_OUTPUT = new Set(['RuleMatched', 'EventSkipped', 'RefundApplied', 'EarningGranted', 'EarningApproved', 'EarningReversed']);

/** mulberry32: the same workload on every run, so a failure can be replayed. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};

const readAll = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
};

/**
 * Every tracked event's decision, every grant and every reversal, keyed by
 * what names them (ids derive from what they are for), without what a clock
 * or a random id put there.
 */
const outcomes = (log: readonly RecordedEvent[]) => {
  const decisions: Record<string, unknown[]> = {};
  const grants: Record<string, unknown> = {};
  const reversals: Record<string, unknown> = {};
  for (const { type, data } of log) {
    const eventId = String(data.eventId);
    if (type === 'RuleMatched' || type === 'EventSkipped' || type === 'RefundApplied') {
      const { eventId: _, ...decision } = data;
      (decisions[eventId] ??= []).push({ type, ...decision });
    }
    if (type === 'EarningGranted') {
      const hold = Date.parse(String(data.approvesAt)) - Date.parse(String(data.grantedAt));
      grants[String(data.earningId)] = { eventId, campaignId: data.campaignId, beneficiaryId: data.beneficiaryId, amount: data.amount, currency: data.currency, hold };
    }
    if (type === 'EarningReversed') reversals[`${String(data.earningId)}/${String(data.refundEventId)}`] = { amount: data.amount, remaining: data.remaining };
  }
  return { decisions, grants, reversals };
};

const decidedAll = (log: readonly RecordedEvent[]): boolean => {
  const registered = log.filter((event) => event.type === 'EventRegistered').length;
  const decided = new Set(log.filter((event) => ['RuleMatched', 'EventSkipped', 'RefundApplied'].includes(event.type)).map((event) => event.data.eventId));
  const reversalsDecided = log.filter((event) => event.type === 'RefundApplied').reduce((n, event) => n + (event.data.reversals as unknown[]).length, 0);
  const reversed = log.filter((event) => event.type === 'EarningReversed').length;
  const matched = new Set(log.filter((event) => event.type === 'RuleMatched').map((event) => event.data.earningId)).size;
  const granted = log.filter((event) => event.type === 'EarningGranted').length;
  return decided.size === registered && reversed === reversalsDecided && granted === matched;
};

/**
 * Issue 11: a mixed workload (campaigns with budgets, limits, holds and
 * percentage rewards; a pause; partial, full, over- and odd refunds) decided
 * live over HTTP, then a fresh rule engine, on a fresh log holding only what
 * clients wrote, decides every tracked event from position zero: the same
 * matches, amounts, skips, reversals.
 */
describe('refunds and budgets are decided from the log alone', function () {
  this.timeout(180_000);
  let live: TestDatabase;
  let fresh: TestDatabase;
  before(async () => {
    live = await createTestDatabase();
    fresh = await createTestDatabase();
  });
  after(async () => {
    await live?.drop();
    await fresh?.drop();
  });

  it('a fresh rule engine replaying from position zero reaches the same decisions, grants and reversals', async () => {
    const random = seeded(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const app = await runTally(live.url);
    let liveLog: RecordedEvent[];
    try {
      const campaign = async (body: Record<string, unknown>, rule: Record<string, unknown>) => {
        const created = await app.commands.post('/campaigns', body);
        expect(created.status).to.equal(201);
        expect((await app.commands.post(`/campaigns/${created.body.id}/rules`, rule)).status).to.equal(201);
        return created.body.id as string;
      };
      await campaign({ name: 'Fixed, budget, limit', budget: 60 }, { conditions: { type: 'purchase' }, reward: { type: 'fixed', amount: 5 }, limits: { maxPerBeneficiary: 3 } });
      await campaign({ name: 'Percentage, held', holdDays: 30 }, { conditions: { type: 'purchase', amount: { $gte: 20 } }, reward: { type: 'percentage', rate: 0.1, of: 'amount', cap: 8 } });
      const paused = await campaign({ name: 'Merchant, small budget', budget: 25, holdDays: 7 }, { conditions: { merchantId: 'M1' }, reward: { type: 'fixed', amount: 2.5 } });

      const purchases: { id: string; amount: number }[] = [];
      let refunds = 0;
      const body = (n: number): Record<string, unknown> => {
        const roll = random();
        if (purchases.length < 5 || roll < 0.6) {
          const purchase = { id: `p-${n}`, amount: Math.round(random() * 20_000) / 100 + 1 };
          purchases.push(purchase);
          return { ...purchase, type: 'purchase', merchantId: pick(['M0', 'M1']), customerId: `C-${Math.floor(random() * 8)}` };
        }
        const id = `r-${refunds++}`;
        if (roll < 0.64) return { id, type: 'refund', refundOf: `p-${n + 3}` }; // not registered yet: unknown
        if (roll < 0.67) return { id, type: 'refund', refundOf: `r-${Math.floor(random() * refunds)}` }; // a refund of a refund
        const target = pick(purchases);
        if (roll < 0.75) return { id, type: 'refund', refundOf: target.id }; // in full
        // Partial, often enough of the same purchase to go over its amount.
        return { id, type: 'refund', refundOf: target.id, amount: Math.round(target.amount * (0.1 + random() * 0.6) * 100) / 100 };
      };
      let n = 0;
      for (let round = 0; round < 30; round++) {
        if (round === 15) expect((await app.commands.post(`/campaigns/${paused}/pause`, {})).status).to.equal(200);
        if (round === 22) expect((await app.commands.post(`/campaigns/${paused}/activate`, {})).status).to.equal(200);
        // Batches and concurrent single requests, so that the engine meets them in batches of every size.
        const batch = Array.from({ length: 6 }, () => body(n++));
        const singles = Array.from({ length: 4 }, () => body(n++));
        const answers = await Promise.all([
          app.commands.post('/events/batch', { events: batch }),
          ...singles.map((single) => app.commands.post('/events', single)),
        ]);
        expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202, 202, 202, 202]);
      }
      liveLog = await until('every tracked event decided, granted and reversed', () => readAll(app.tally.store), { ok: decidedAll, timeoutMs: 60_000 });
    } finally {
      await app.stop();
    }

    const expected = outcomes(liveLog);
    // The workload reaches every path it means to.
    const refundOutcomes = Object.entries(expected.decisions).filter(([id]) => id.startsWith('r-')).map(([, [decision]]) => decision as { type: string; reasons?: { reason: string }[] });
    const reasons = refundOutcomes.flatMap((decision) => decision.reasons ?? []).map(({ reason }) => reason);
    expect(refundOutcomes.filter((decision) => decision.type === 'RefundApplied')).to.have.length.above(10);
    expect(reasons.some((reason) => reason.endsWith('is not registered before this refund'))).to.equal(true);
    expect(reasons.some((reason) => reason.endsWith('earned nothing to reverse'))).to.equal(true);
    expect(reasons.some((reason) => reason.endsWith('is refunded in full already'))).to.equal(true);
    expect(Object.values(expected.reversals).some((reversal) => (reversal as { remaining: number }).remaining > 0)).to.equal(true);
    expect(Object.values(expected.decisions).flat().some((decision) => JSON.stringify(decision).includes('budget exhausted'))).to.equal(true);
    // Never more reversed than granted, per earning.
    const reversedPerEarning = new Map<string, number>();
    for (const [key, reversal] of Object.entries(expected.reversals)) {
      const earningId = key.split('/')[0]!;
      reversedPerEarning.set(earningId, (reversedPerEarning.get(earningId) ?? 0) + (reversal as { amount: number }).amount);
    }
    for (const [earningId, reversed] of reversedPerEarning) expect(reversed).to.be.at.most((expected.grants[earningId] as { amount: number }).amount);

    // A fresh log of only what clients wrote, in the same order, and a fresh engine on it.
    const writer = await runTally(fresh.url, { roles: ['command'] });
    const knex = createKnex({ url: fresh.url, max: 2 });
    try {
      const store = writer.tally.store;
      const input = liveLog.filter((event) => !ENGINE_OUTPUT.has(event.type) && !event.type.startsWith('Message'));
      for (const { streamId, type, data, metadata } of input) await store.appendToStream(streamId, [{ type, data, metadata }], { expectedRevision: 'any' });
      const engine = await startRuleEngine({ store, checkpoints: createCheckpoints(knex), clock: () => new Date(), logger: silentLogger, onFatal: () => undefined });
      try {
        const replayed = await until('the fresh engine decided everything', () => readAll(store), { ok: decidedAll, timeoutMs: 60_000 });
        const actual = outcomes(replayed);
        expect(actual.decisions).to.deep.equal(expected.decisions);
        expect(actual.grants).to.deep.equal(expected.grants);
        expect(actual.reversals).to.deep.equal(expected.reversals);
        expect(await createCheckpoints(knex).load(RULE_ENGINE_CHECKPOINT)).to.not.equal(undefined);
      } finally {
        await engine.stop();
      }
    } finally {
      await knex.destroy();
      await writer.stop();
    }
  });
});
