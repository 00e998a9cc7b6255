import type { JsonObject, JsonValue } from '../json.ts';

/** Object.hasOwn, which V8 runs slower than the prototype's own method (about 19 ns a read against 16). */
export const hasOwn = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

/**
 * The field `key` of a value as MongoDB sees it: an own field of a document,
 * an element of an array by index, and nothing else. `value[key]` would also
 * find what JavaScript puts on every object (`constructor`, `toString`,
 * `__proto__`), an array's `length` and a string's characters, so that
 * `{"constructor.name": "Object"}` would match every document.
 */
export const fieldOf = (value: JsonValue | undefined, key: string): JsonValue | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return key !== 'length' && hasOwn(value, key) ? value[Number(key)] : undefined;
  return hasOwn(value, key) ? value[key] : undefined;
};

/** The value at a dot-notation path (`data.channel`), or undefined. Array elements by index only. */
export const valueAt = (document: JsonObject, path: string): JsonValue | undefined => valueAtKeys(document, path.split('.'));

/** valueAt for a path already split: hot paths split once, at compile time. */
export const valueAtKeys = (document: JsonObject, keys: readonly string[]): JsonValue | undefined => {
  let current: JsonValue | undefined = document;
  for (const key of keys) {
    current = fieldOf(current, key);
    if (current === undefined) return undefined;
  }
  return current;
};

const isDocument = (value: JsonValue): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every value a MongoDB-style query can see at a path: arrays on the way are
 * walked element by element, and an array at the end counts as itself and as
 * each of its elements (`{tags: "a"}` matches `{tags: ["a", "b"]}`).
 */
export const valuesAt = (document: JsonValue, keys: readonly string[]): JsonValue[] => {
  // The common case, a field of the document itself, without the general walk.
  if (keys.length === 1 && isDocument(document)) {
    const value = fieldOf(document, keys[0]!);
    if (value === undefined) return [];
    if (!Array.isArray(value)) return [value];
  }
  let current: JsonValue[] = [document];
  for (const key of keys) {
    const next: JsonValue[] = [];
    for (const value of current) {
      const field = fieldOf(value, key);
      if (field !== undefined) next.push(field);
      if (!Array.isArray(value)) continue;
      for (const element of value) {
        const inElement = isDocument(element) ? fieldOf(element, key) : undefined;
        if (inElement !== undefined) next.push(inElement);
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? [value, ...value] : [value]));
};
