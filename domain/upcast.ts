import type { JsonObject } from './json.ts';

/**
 * Old domain events stay readable forever (DESIGN §4): each upcaster turns an
 * older shape into the current one when the event is read.
 */
const UPCASTERS: Record<string, (data: JsonObject) => JsonObject> = {
  // Rules written before limits existed have none.
  RuleAdded: (data) => ('limits' in data ? data : { ...data, limits: { maxPerBeneficiary: null } }),
};

export const upcast = (type: string, data: JsonObject): JsonObject => UPCASTERS[type]?.(data) ?? data;
