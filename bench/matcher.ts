/**
 * npm run bench:matcher — tracked events decided per second against 10, 1,000
 * and 10,000 rules of mixed operators: Tally's rule book (sift matchers behind
 * an index on equality conditions) against mingo and json-rules-engine, in the
 * same process, on the same rules and events. Every engine answers the same
 * question: per campaign, the first rule by priority that matches. Before
 * timing, the three answers are checked to be identical.
 */
import { Engine, type RuleProperties } from 'json-rules-engine';
import { Query } from 'mingo';
import type { JsonObject } from '../domain/json.ts';
import { createRuleBook, type RuleBook } from '../domain/rules/rule-book.ts';
import { generateEvents, generateRules, seededRandom, toMongoQuery, type BenchRule } from './matcher/rule-set.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SIZES = [10, 1_000, 10_000];
const TARGET_AT_1000 = 100_000;

type Decide = (event: JsonObject) => Promise<string[]> | string[];

/** Rules sorted as every engine must try them: campaign by campaign, by descending priority, then in order of addition. */
const trialOrder = (rules: readonly BenchRule[]): BenchRule[] =>
  [...rules].sort((a, b) => Number(a.campaignId.slice(1)) - Number(b.campaignId.slice(1)) || b.priority - a.priority || Number(a.ruleId.slice(1)) - Number(b.ruleId.slice(1)));

/** First match per campaign, from an engine that tells which rules match. */
const firstPerCampaign = (ordered: readonly BenchRule[], matching: ReadonlySet<string>): string[] => {
  const decided = new Set<string>();
  const chosen: string[] = [];
  for (const rule of ordered) {
    if (decided.has(rule.campaignId) || !matching.has(rule.ruleId)) continue;
    decided.add(rule.campaignId);
    chosen.push(rule.ruleId);
  }
  return chosen;
};

const tally = (rules: readonly BenchRule[]): Decide => {
  const book: RuleBook = createRuleBook();
  const at = '2026-01-01T00:00:00.000Z';
  for (const campaignId of new Set(rules.map((rule) => rule.campaignId))) {
    book.apply({ type: 'CampaignCreated', data: { campaignId, name: campaignId, description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: at } });
  }
  for (const rule of rules) {
    book.apply({
      type: 'RuleAdded',
      data: {
        campaignId: rule.campaignId, ruleId: rule.ruleId, name: rule.ruleId, priority: rule.priority, conditions: toMongoQuery(rule),
        reward: { type: 'fixed', amount: 100 }, beneficiary: 'customerId', limits: { maxPerBeneficiary: null }, addedAt: at,
      },
    });
  }
  return (event) => book.decide(event, at, () => 'earning').matches.map((match) => match.ruleId);
};

const mingo = (rules: readonly BenchRule[]): Decide => {
  const ordered = trialOrder(rules).map((rule) => ({ rule, query: new Query(toMongoQuery(rule)) }));
  return (event) => {
    const decided = new Set<string>();
    const chosen: string[] = [];
    for (const { rule, query } of ordered) {
      if (decided.has(rule.campaignId) || !query.test(event)) continue;
      decided.add(rule.campaignId);
      chosen.push(rule.ruleId);
    }
    return chosen;
  };
};

const OPERATOR = { eq: 'equal', in: 'in', nin: 'notIn', gte: 'greaterThanInclusive', lt: 'lessThan', regex: 'matches' } as const;

const jsonRulesEngine = (rules: readonly BenchRule[]): Decide => {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator<string, string>('matches', (fact, pattern) => typeof fact === 'string' && new RegExp(pattern).test(fact));
  for (const rule of rules) {
    const properties: RuleProperties = {
      name: rule.ruleId,
      priority: 1,
      conditions: { all: rule.conditions.map(({ field, op, value }) => ({ fact: field, operator: OPERATOR[op], value: Array.isArray(value) ? [...value] : value })) },
      event: { type: 'matched', params: { ruleId: rule.ruleId } },
    };
    engine.addRule(properties);
  }
  const ordered = trialOrder(rules);
  return async (event) => {
    const { events } = await engine.run(event);
    return firstPerCampaign(ordered, new Set(events.map((e) => String(e.params?.ruleId))));
  };
};

const measure = async (decide: Decide, events: readonly JsonObject[]): Promise<number> => {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let decided = 0;
  while (performance.now() < deadline) {
    await decide(events[decided % events.length]!);
    decided++;
  }
  return decided / ((performance.now() - start) / 1000);
};

const main = async (): Promise<void> => {
  const events = generateEvents(10_000, seededRandom(7));
  console.log(`matcher benchmark: ${SECONDS}s per engine and size, node ${process.version}\n`);
  const rows: string[][] = [];
  let targetMet = true;
  for (const size of SIZES) {
    const rules = generateRules(size, seededRandom(size));
    const engines = { tally: tally(rules), mingo: mingo(rules), 'json-rules-engine': jsonRulesEngine(rules) };
    for (const event of events.slice(0, 200)) {
      const answers = await Promise.all(Object.values(engines).map(async (decide) => JSON.stringify(await decide(event))));
      if (new Set(answers).size !== 1) throw new Error(`engines disagree on ${JSON.stringify(event)}: ${answers.join(' / ')}`);
    }
    const rates: Record<string, number> = {};
    for (const [name, decide] of Object.entries(engines)) rates[name] = await measure(decide, events);
    const best = Math.max(rates.mingo!, rates['json-rules-engine']!);
    if (rates.tally! <= best || (size === 1_000 && rates.tally! < TARGET_AT_1000)) targetMet = false;
    for (const [name, rate] of Object.entries(rates)) {
      rows.push([String(size), name, Math.round(rate).toLocaleString('en-US'), `${(rates.tally! / rate).toFixed(1)}×`]);
    }
  }
  const widths = [6, 18, 14, 14];
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(['rules', 'engine', 'events/s', 'tally ÷ this']));
  for (const row of rows) console.log(line(row));
  console.log(`\ntargets: ≥ ${TARGET_AT_1000.toLocaleString('en-US')} events/s at 1,000 rules, ahead of both peers at every size: ${targetMet ? 'met' : 'NOT met'}`);
};

await main();
