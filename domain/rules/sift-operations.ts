import sift from 'sift';
import type { Operation, Options } from 'sift/lib/core.js';
import type { JsonValue } from '../json.ts';
import { compilePattern } from './pattern.ts';
import { FIELDS, fieldsOperation, type SiftQuery } from './sift-fields.ts';
import { Group } from './sift-group.ts';

/**
 * Equality as MongoDB reads documents: fields are own fields. sift's `equals`
 * reads `b[key]`, so `{"a": {"__proto__": {}}}` equalled every `{"a": {"x": 1}}`
 * (one key each, and `__proto__` found Object.prototype). A null query value
 * equals null and a missing field, as in sift.
 */
export const ownEquals = (a: unknown, b: unknown): boolean => {
  if (a === b || (a == null && b == null)) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => ownEquals(item, b[i]));
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && ownEquals(a[key as keyof typeof a], b[key as keyof typeof b]));
};

/** `$regex` on RE2 (pattern.ts), with the `$options` beside it. */
const $regex = (pattern: string, query: SiftQuery, options: Options): Operation<unknown> => {
  const flags = Object.hasOwn(query, '$options') && typeof query.$options === 'string' ? query.$options : '';
  const matches = compilePattern(pattern, flags);
  return sift.createEqualsOperation((value: unknown) => typeof value === 'string' && matches(value), query, options);
};

class All extends Group {
  next(item: unknown, key?: string | number, owner?: unknown, root?: boolean, leaf?: boolean): void {
    this.childrenNext(item, key, owner, root, leaf);
  }
}

/**
 * `$all: [a, b]` holds where `a` and `b` each equal the value or one of its
 * elements, as MongoDB has it. sift reads each item as a query of its own, so
 * `[{x: 1}]` became "has a field x" and walked fields sift's way.
 */
const $all = (items: readonly JsonValue[], query: SiftQuery, options: Options): Operation<unknown> =>
  new All(items.map((item) => sift.createEqualsOperation(item, query, options)));

/**
 * Every operation sift may run: the whitelist (conditions.ts), with `$regex`
 * and `$all` replaced, plus `$type`, which only the `$elemMatch` rewrite
 * writes, and `$fields` (sift-query.ts).
 */
export const SIFT_OPTIONS = {
  compare: ownEquals,
  operations: {
    $eq: sift.$eq, $ne: sift.$ne, $gt: sift.$gt, $gte: sift.$gte, $lt: sift.$lt, $lte: sift.$lte,
    $in: sift.$in, $nin: sift.$nin, $exists: sift.$exists, $regex, $options: sift.$options,
    $and: sift.$and, $or: sift.$or, $not: sift.$not, $nor: sift.$nor,
    $elemMatch: sift.$elemMatch, $size: sift.$size, $all,
    $type: sift.$type, [FIELDS]: fieldsOperation,
  },
};
