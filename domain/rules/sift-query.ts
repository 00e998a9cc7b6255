import type { JsonObject, JsonValue } from '../json.ts';
import { FIELDS, type FieldCondition, type SiftQuery } from './sift-fields.ts';

const isObject = (value: JsonValue): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOperatorObject = (value: JsonValue): value is JsonObject => isObject(value) && Object.keys(value).some((key) => key.startsWith('$'));
const hasFieldKeys = (value: JsonObject): boolean => Object.keys(value).some((key) => !key.startsWith('$'));

/**
 * A validated query rewritten for sift, in two ways:
 *
 * - Field conditions (`"data.channel": …`) move under one `$fields`
 *   operation, which reads fields as MongoDB does (sift-fields.ts). sift
 *   would walk them itself and see inherited JavaScript properties.
 * - In MongoDB a document query inside `$elemMatch` (`{d: null}`) only looks
 *   at elements that are documents; sift would also try scalars, where a
 *   missing `d` counts as null. The rewrite adds the "is a document" test.
 */
export const toSiftQuery = (query: JsonObject): SiftQuery => {
  const rewritten: SiftQuery = {};
  const fields: FieldCondition[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('$')) rewritten[key] = operand(key, value);
    else fields.push([key.split('.'), isOperatorObject(value) ? operators(value) : value]);
  }
  if (fields.length > 0) rewritten[FIELDS] = fields;
  return rewritten;
};

const operators = (conditions: JsonObject): SiftQuery =>
  Object.fromEntries(Object.entries(conditions).map(([op, value]) => [op, operand(op, value)]));

/** Operations only this rewrite writes: a query that names them itself was never validated. */
const INTERNAL = new Set([FIELDS, '$type']);

const operand = (op: string, value: JsonValue): unknown => {
  if (INTERNAL.has(op)) throw new Error(`Unsupported operation: ${op}`);
  switch (op) {
    case '$and': case '$or': case '$nor':
      return Array.isArray(value) ? value.map((query) => (isObject(query) ? toSiftQuery(query) : query)) : value;
    case '$not':
      return isObject(value) ? operators(value) : value;
    case '$elemMatch':
      if (!isObject(value)) return value;
      return hasFieldKeys(value) ? { $and: [{ $type: Object }, toSiftQuery(value)] } : toSiftQuery(value);
    default:
      return value;
  }
};
