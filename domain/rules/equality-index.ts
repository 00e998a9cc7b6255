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
 * A top-level condition that pins a path to one value (`{merchantId: "M1"}`,
 * `{$eq: …}`) or a few (`{$in: [...]}`): a document can only match the rule if
 * it holds one of them there. Null and missing-field equality are not indexed.
 */
export const indexKeyOf = (conditions: JsonObject): IndexKey | null => {
  let best: IndexKey | null = null;
  for (const [path, condition] of Object.entries(conditions)) {
    if (path.startsWith('$')) continue;
    let values: Literal[] | null = null;
    if (isLiteral(condition)) values = [condition];
    else if (typeof condition === 'object' && condition !== null && !Array.isArray(condition)) {
      const operators = Object.keys(condition);
      if (operators.length === 1 && isLiteral(condition.$eq)) values = [condition.$eq];
      const list = condition.$in;
      if (operators.length === 1 && Array.isArray(list) && list.length > 0 && list.every(isLiteral)) values = list;
    }
    // A single value narrows best; among lists, the shortest.
    if (values && (!best || values.length < best.values.length)) best = { path, values };
  }
  return best;
};

/** Rules filed under the values their index key pins; the rest are always candidates. */
export interface EqualityIndex<T> {
  add(item: T, key: IndexKey | null): void;
  remove(item: T, key: IndexKey | null): void;
  /** Every item that might match the document: a superset of the ones that do. */
  candidates(document: JsonObject): Set<T>;
}

export const createEqualityIndex = <T>(): EqualityIndex<T> => {
  const byPath = new Map<string, Map<string, Set<T>>>();
  const unindexed = new Set<T>();
  return {
    add(item, key) {
      if (!key) return void unindexed.add(item);
      let byValue = byPath.get(key.path);
      if (!byValue) byPath.set(key.path, (byValue = new Map()));
      for (const value of key.values) {
        let items = byValue.get(keyOf(value));
        if (!items) byValue.set(keyOf(value), (items = new Set()));
        items.add(item);
      }
    },
    remove(item, key) {
      if (!key) return void unindexed.delete(item);
      const byValue = byPath.get(key.path);
      for (const value of key.values) byValue?.get(keyOf(value))?.delete(item);
    },
    candidates(document) {
      const found = new Set(unindexed);
      for (const [path, byValue] of byPath) {
        for (const value of valuesAt(document, path)) {
          if (!isLiteral(value)) continue;
          const items = byValue.get(keyOf(value));
          if (items) for (const item of items) found.add(item);
        }
      }
      return found;
    },
  };
};
