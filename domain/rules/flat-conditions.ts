import type { JsonObject, JsonValue } from '../json.ts';
import { hasOwn } from './document-path.ts';
import { compilePattern } from './pattern.ts';

/** true / false when the flat path could decide; undefined sends the document to sift. */
export type FlatMatcher = (document: JsonObject) => boolean | undefined;

type Scalar = string | number | boolean;
type Predicate = (value: Scalar | null | undefined) => boolean;

const isPlainObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The value at a path when the walk meets only documents and ends on a scalar,
 * null or nothing. Arrays and documents at the end are where MongoDB semantics
 * get subtle, so they are left to sift (UNDECIDED).
 */
const UNDECIDED = Symbol('undecided');
const scalarAt = (document: JsonObject, keys: readonly string[]): Scalar | null | undefined | typeof UNDECIDED => {
  let current: JsonValue | undefined = document;
  for (const key of keys) {
    if (current === undefined || current === null) return undefined;
    if (!isPlainObject(current)) return UNDECIDED;
    // Own fields only: `constructor` or `toString` is no field of a document (document-path.ts).
    current = hasOwn(current, key) ? current[key] : undefined;
  }
  return typeof current === 'object' && current !== null ? UNDECIDED : current;
};

const equals = (operand: JsonValue): Predicate | null => {
  if (operand === null) return (value) => value === null || value === undefined;
  if (typeof operand === 'object') return null;
  return (value) => value === operand;
};

const compare = (op: string, operand: JsonValue): Predicate | null => {
  if (typeof operand !== 'number' && typeof operand !== 'string') return null;
  // MongoDB compares within a type only: a string is never greater than a number.
  const type = typeof operand;
  switch (op) {
    case '$gt': return (value) => typeof value === type && (value as Scalar) > operand;
    case '$gte': return (value) => typeof value === type && (value as Scalar) >= operand;
    case '$lt': return (value) => typeof value === type && (value as Scalar) < operand;
    case '$lte': return (value) => typeof value === type && (value as Scalar) <= operand;
    default: return null;
  }
};

const predicateOf = (condition: JsonValue): Predicate | null => {
  if (!isPlainObject(condition)) return equals(condition);
  const parts: Predicate[] = [];
  for (const [op, operand] of Object.entries(condition)) {
    let part: Predicate | null;
    switch (op) {
      case '$eq':
        part = equals(operand);
        break;
      case '$ne': {
        const eq = equals(operand);
        part = eq && ((value) => !eq(value));
        break;
      }
      case '$gt': case '$gte': case '$lt': case '$lte':
        part = compare(op, operand);
        break;
      case '$in': case '$nin': {
        if (!Array.isArray(operand)) return null;
        const each = operand.map(equals);
        if (each.some((p) => p === null)) return null;
        const inList: Predicate = (value) => each.some((p) => p!(value));
        part = op === '$in' ? inList : (value) => !inList(value);
        break;
      }
      case '$exists':
        part = operand === true ? (value) => value !== undefined : (value) => value === undefined;
        break;
      case '$regex': {
        if (typeof operand !== 'string') return null;
        const options = condition.$options;
        const matches = compilePattern(operand, typeof options === 'string' ? options : '');
        part = (value) => typeof value === 'string' && matches(value);
        break;
      }
      case '$options':
        continue;
      default:
        return null;
    }
    if (!part) return null;
    parts.push(part);
  }
  return parts.length === 1 ? parts[0]! : (value) => parts.every((p) => p(value));
};

/**
 * A fast path for the common shape of a rule: top-level fields compared with
 * scalars (equality, ranges, sets, patterns, existence). It answers only when
 * each field holds a scalar, null or nothing; anything else (arrays, documents,
 * logical operators) goes to sift. The property tests hold the two to the same
 * answers. Null when the conditions are not of that shape.
 */
export const compileFlatConditions = (conditions: JsonObject): FlatMatcher | null => {
  const fields: { keys: string[]; test: Predicate }[] = [];
  for (const [path, condition] of Object.entries(conditions)) {
    if (path.startsWith('$') || path.split('.').some((key) => key === '' || /^\d+$/.test(key))) return null;
    const test = predicateOf(condition);
    if (!test) return null;
    fields.push({ keys: path.split('.'), test });
  }
  return (document) => {
    for (const { keys, test } of fields) {
      const value = scalarAt(document, keys);
      if (value === UNDECIDED) return undefined;
      if (!test(value)) return false;
    }
    return true;
  };
};
