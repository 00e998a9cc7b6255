import type { JsonObject, JsonValue } from '../json.ts';
import { valuesAt } from './document-path.ts';

type Literal = string | number | boolean;
const isLiteral = (value: JsonValue | undefined): value is Literal =>
  typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

const keyOf = (value: Literal): string => `${typeof value}:${value}`;

export interface IndexKey {
  readonly path: string;
  readonly values: readonly Literal[];
}

/**
 * Every top-level condition that pins a path to one value (`{merchantId: "M1"}`,
 * `{$eq: …}`) or a few (`{$in: [...]}`): a document can only match the rule if
 * it holds one of them there. Null and missing-field equality are not indexed.
 */
export const indexKeysOf = (conditions: JsonObject): IndexKey[] => {
  const keys: IndexKey[] = [];
  for (const [path, condition] of Object.entries(conditions)) {
    if (path.startsWith('$')) continue;
    if (isLiteral(condition)) keys.push({ path, values: [condition] });
    else if (typeof condition === 'object' && condition !== null && !Array.isArray(condition)) {
      const operators = Object.keys(condition);
      if (operators.length !== 1) continue;
      if (isLiteral(condition.$eq)) keys.push({ path, values: [condition.$eq] });
      const list = condition.$in;
      if (Array.isArray(list) && list.length > 0 && list.every(isLiteral)) keys.push({ path, values: list });
    }
  }
  return keys;
};

/** Rules filed under the values of one of their index keys; the rest are always candidates. */
export interface EqualityIndex<T> {
  add(item: T, keys: readonly IndexKey[]): void;
  remove(item: T): void;
  /** Every item that might match the document (a superset of the ones that do), in `order`. Do not change the array. */
  candidates(document: JsonObject): readonly T[];
}

/** Two lists each in order, as one list in order. */
const merge = <T>(a: readonly T[], b: readonly T[], order: (x: T, y: T) => number): T[] => {
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(order(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
};

/**
 * Each item is filed under the key that shares its bucket with the fewest
 * others (`merchantId: "M7"` rather than `type: "purchase"`, which every rule
 * has). Choosing needs the whole population, so the buckets are rebuilt lazily
 * after rules change; rules change rarely, documents arrive all the time.
 */
export const createEqualityIndex = <T>(order: (a: T, b: T) => number): EqualityIndex<T> => {
  const items = new Map<T, readonly IndexKey[]>();
  let byPath = new Map<string, { keys: string[]; byValue: Map<string, T[]> }>();
  let unindexed: T[] = [];
  let dirty = false;

  const rebuild = (): void => {
    const population = new Map<string, number>();
    const bucketOf = (path: string, value: Literal) => `${path}\u0000${keyOf(value)}`;
    for (const keys of items.values()) {
      for (const { path, values } of keys) for (const value of values) population.set(bucketOf(path, value), (population.get(bucketOf(path, value)) ?? 0) + 1);
    }
    byPath = new Map();
    unindexed = [];
    for (const [item, keys] of items) {
      let best: IndexKey | undefined;
      let bestCost = Number.POSITIVE_INFINITY;
      for (const key of keys) {
        const cost = key.values.reduce<number>((sum, value) => sum + population.get(bucketOf(key.path, value))!, 0);
        if (cost < bestCost) [best, bestCost] = [key, cost];
      }
      if (!best) {
        unindexed.push(item);
        continue;
      }
      let entry = byPath.get(best.path);
      if (!entry) byPath.set(best.path, (entry = { keys: best.path.split('.'), byValue: new Map() }));
      const { byValue } = entry;
      for (const value of new Set(best.values)) {
        const bucket = byValue.get(keyOf(value));
        if (bucket) bucket.push(item);
        else byValue.set(keyOf(value), [item]);
      }
    }
    // Kept in order, so that a document finding one bucket needs a merge, not a sort.
    unindexed.sort(order);
    for (const { byValue } of byPath.values()) for (const bucket of byValue.values()) bucket.sort(order);
    dirty = false;
  };

  return {
    add(item, keys) {
      items.set(item, keys);
      dirty = true;
    },
    remove(item) {
      items.delete(item);
      dirty = true;
    },
    candidates(document) {
      if (dirty) rebuild();
      let lists: (readonly T[])[] = [unindexed];
      let overlapping = false;
      for (const { keys, byValue } of byPath.values()) {
        let hits = 0;
        for (const value of valuesAt(document, keys)) {
          if (!isLiteral(value)) continue;
          const bucket = byValue.get(keyOf(value));
          if (!bucket) continue;
          lists.push(bucket);
          hits++;
        }
        // An item lives under one path only, but under each value of its $in: two values at one path may share items.
        if (hits > 1) overlapping = true;
      }
      if (overlapping) return [...new Set(lists.flat())].sort(order);
      lists = lists.filter((list) => list.length > 0);
      if (lists.length === 0) return unindexed;
      return lists.reduce((merged, list) => merge(merged, list, order));
    },
  };
};
