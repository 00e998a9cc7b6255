import type { JsonObject, JsonValue } from '../json.ts';

/** The value at a dot-notation path (`data.channel`), or undefined. */
export const valueAt = (document: JsonObject, path: string): JsonValue | undefined => {
  let current: JsonValue | undefined = document;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Array.isArray(current) ? current[Number(key)] : current[key];
  }
  return current;
};
