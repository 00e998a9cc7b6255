import type { JsonObject } from '../../domain/json.ts';

/**
 * A neutral description of a benchmark rule set, translated for each engine.
 * Mixed operators, shaped like real campaigns: 85% of rules pin one merchant
 * and 10% a few ($in), 5% are broad (any merchant); all add ranges, sets, a
 * pattern or an exclusion at random.
 */
export type Condition =
  | { readonly field: string; readonly op: 'eq'; readonly value: string }
  | { readonly field: string; readonly op: 'in' | 'nin'; readonly value: readonly string[] }
  | { readonly field: string; readonly op: 'gte' | 'lt'; readonly value: number }
  | { readonly field: string; readonly op: 'regex'; readonly value: string };

export interface BenchRule {
  readonly ruleId: string;
  readonly campaignId: string;
  readonly priority: number;
  readonly conditions: readonly Condition[];
}

/** mulberry32: a tiny seeded generator, so that every run measures the same rules and events. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const MERCHANTS = 1000;
const CHANNELS = ['web', 'app', 'store', 'phone'];
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'CA', 'GB'];
export const RULES_PER_CAMPAIGN = 10;

export const generateRules = (count: number, random: () => number): BenchRule[] => {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const merchant = () => `M${Math.floor(random() * MERCHANTS)}`;
  return Array.from({ length: count }, (_, i) => {
    const conditions: Condition[] = [];
    const shape = random();
    if (shape < 0.85) conditions.push({ field: 'merchantId', op: 'eq', value: merchant() });
    else if (shape < 0.95) conditions.push({ field: 'merchantId', op: 'in', value: [merchant(), merchant(), merchant()] });
    conditions.push({ field: 'type', op: 'eq', value: 'purchase' });
    if (random() < 0.6) conditions.push({ field: 'amount', op: 'gte', value: Math.floor(random() * 200) });
    if (random() < 0.2) conditions.push({ field: 'amount', op: 'lt', value: 300 + Math.floor(random() * 200) });
    if (random() < 0.3) conditions.push({ field: 'channel', op: 'in', value: [pick(CHANNELS), pick(CHANNELS)] });
    if (random() < 0.1) conditions.push({ field: 'sku', op: 'regex', value: `^SKU-${Math.floor(random() * 10)}` });
    if (random() < 0.1) conditions.push({ field: 'country', op: 'nin', value: [pick(COUNTRIES)] });
    return { ruleId: `r${i}`, campaignId: `c${Math.floor(i / RULES_PER_CAMPAIGN)}`, priority: Math.floor(random() * 5), conditions };
  });
};

/**
 * One document of a seeded stream, the n-th: a purchase, or (`refundShare`,
 * one time in ten by default) a refund of an earlier one, half of them in
 * part, as POST /events takes them.
 */
export const generateEvent = (n: number, random: () => number, refundShare = 0.1): JsonObject => {
  const refund = random() < refundShare && n > 0;
  const refundOf = `e${Math.floor(random() * n)}`;
  const partly = random() < 0.5;
  const fields = purchaseFields(random);
  if (!refund) return { id: `e${n}`, type: 'purchase', ...fields };
  const { amount, ...rest } = fields;
  return { id: `e${n}`, type: 'refund', refundOf, ...rest, ...(partly ? { amount: Math.max(0.01, Math.floor(amount * 50) / 100) } : {}) };
};

const purchaseFields = (random: () => number) => ({
  merchantId: `M${Math.floor(random() * MERCHANTS)}`,
  customerId: `C${Math.floor(random() * 10_000)}`,
  amount: Math.floor(random() * 50_000) / 100,
  channel: CHANNELS[Math.floor(random() * CHANNELS.length)]!,
  sku: `SKU-${Math.floor(random() * 100)}`,
  country: COUNTRIES[Math.floor(random() * COUNTRIES.length)]!,
});

export const generateEvents = (count: number, random: () => number): JsonObject[] => Array.from({ length: count }, (_, n) => generateEvent(n, random));

/** The same rule as a MongoDB-style query (Tally, mingo). */
export const toMongoQuery = (rule: BenchRule): JsonObject => {
  const query: JsonObject = {};
  for (const condition of rule.conditions) {
    const operators = (query[condition.field] ?? {}) as JsonObject;
    switch (condition.op) {
      case 'eq':
        query[condition.field] = condition.value;
        continue;
      case 'in': case 'nin':
        operators[`$${condition.op}`] = [...condition.value];
        break;
      case 'gte': case 'lt':
        operators[`$${condition.op}`] = condition.value;
        break;
      case 'regex':
        operators.$regex = condition.value;
        break;
    }
    query[condition.field] = operators;
  }
  return query;
};
