import type { JsonObject, JsonValue } from '../json.ts';

/** The value at a dot-notation path (`data.channel`), or undefined. Array elements by index only. */
export const valueAt = (document: JsonObject, path: string): JsonValue | undefined => valueAtKeys(document, path.split('.'));

/** valueAt for a path already split: hot paths split once, at compile time. */
export const valueAtKeys = (document: JsonObject, keys: readonly string[]): JsonValue | undefined => {
  let current: JsonValue | undefined = document;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Array.isArray(current) ? current[Number(key)] : current[key];
  }
  return current;
};

/**
 * Every value a MongoDB-style query can see at a path: arrays on the way are
 * walked element by element, and an array at the end counts as itself and as
 * each of its elements (`{tags: "a"}` matches `{tags: ["a", "b"]}`).
 */
export const valuesAt = (document: JsonValue, keys: readonly string[]): JsonValue[] => {
  // The common case, a field of the document itself, without the general walk.
  if (keys.length === 1 && typeof document === 'object' && document !== null && !Array.isArray(document)) {
    const value = document[keys[0]!];
    if (value === undefined) return [];
    if (!Array.isArray(value)) return [value];
  }
  let current: JsonValue[] = [document];
  for (const key of keys) {
    const next: JsonValue[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        if (/^\d+$/.test(key) && value[Number(key)] !== undefined) next.push(value[Number(key)]!);
        for (const element of value) {
          if (typeof element === 'object' && element !== null && !Array.isArray(element) && element[key] !== undefined) next.push(element[key]!);
        }
      } else if (typeof value === 'object' && value !== null && value[key] !== undefined) {
        next.push(value[key]!);
      } else if (typeof value === 'string' && /^\d+$/.test(key) && Number(key) < value.length) {
        // sift reads a numeric segment into a string as its character: the index must see what the matcher sees.
        next.push(value[Number(key)]!);
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? [value, ...value] : [value]));
};
