// sift is CommonJS: under Node's ESM its whole module.exports is the default import.
import sift from 'sift';
import type { JsonObject, JsonValue } from '../json.ts';
import { compileFlatConditions } from './flat-conditions.ts';

/** A MongoDB-style query over a tracked event's document (DESIGN §5). */
export type Conditions = JsonObject;

export type Matcher = (document: JsonObject) => boolean;

export interface ConditionProblem {
  /** JSON pointer into the conditions object. */
  readonly pointer: string;
  readonly message: string;
}

/**
 * Only these operators reach sift. `$where`, `$function`, `$expr` and the
 * rest never do: a rule is data, not code.
 */
const OPERATIONS = {
  $eq: sift.$eq, $ne: sift.$ne, $gt: sift.$gt, $gte: sift.$gte, $lt: sift.$lt, $lte: sift.$lte,
  $in: sift.$in, $nin: sift.$nin, $exists: sift.$exists, $regex: sift.$regex, $options: sift.$options,
  $and: sift.$and, $or: sift.$or, $not: sift.$not, $nor: sift.$nor,
  $elemMatch: sift.$elemMatch, $size: sift.$size, $all: sift.$all,
} as const;

type Operator = keyof typeof OPERATIONS;
const isOperator = (key: string): key is Operator => Object.hasOwn(OPERATIONS, key);

export const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');
const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every problem in a conditions object, each with the exact path that is wrong. */
export const validateConditions = (conditions: JsonValue, pointer = ''): ConditionProblem[] => {
  if (!isObject(conditions)) return [{ pointer, message: 'must be an object' }];
  const problems: ConditionProblem[] = [];
  for (const [key, value] of Object.entries(conditions)) {
    const at = `${pointer}/${escapePointer(key)}`;
    if (key.startsWith('$')) problems.push(...validateOperator(key, value, at));
    else if (key === '') problems.push({ pointer: at, message: 'a field path must not be empty' });
    else if (isObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
      for (const [op, operand] of Object.entries(value)) {
        const opAt = `${at}/${escapePointer(op)}`;
        if (!op.startsWith('$')) problems.push({ pointer: opAt, message: 'cannot mix operators and fields' });
        else problems.push(...validateOperator(op, operand, opAt));
      }
    }
  }
  return problems;
};

const validateOperator = (op: string, operand: JsonValue, at: string): ConditionProblem[] => {
  if (!isOperator(op)) return [{ pointer: at, message: `operator ${op} is not allowed` }];
  switch (op) {
    case '$and': case '$or': case '$nor':
      if (!Array.isArray(operand) || operand.length === 0) return [{ pointer: at, message: `${op} needs a non-empty array of conditions` }];
      return operand.flatMap((item, i) => validateConditions(item, `${at}/${i}`));
    case '$not':
      return isObject(operand) ? validateOperatorObject(operand, at) : [{ pointer: at, message: '$not needs an operator object' }];
    case '$elemMatch':
      return isObject(operand) ? validateConditions(operand, at) : [{ pointer: at, message: '$elemMatch needs an object' }];
    case '$in': case '$nin':
      return Array.isArray(operand) ? [] : [{ pointer: at, message: `${op} needs an array` }];
    case '$all':
      // MongoDB matches nothing with an empty $all; sift would match everything: refuse it.
      return Array.isArray(operand) && operand.length > 0 ? [] : [{ pointer: at, message: '$all needs a non-empty array' }];
    case '$exists':
      return typeof operand === 'boolean' ? [] : [{ pointer: at, message: '$exists needs true or false' }];
    case '$size':
      return Number.isInteger(operand) && (operand as number) >= 0 ? [] : [{ pointer: at, message: '$size needs a non-negative integer' }];
    case '$gt': case '$gte': case '$lt': case '$lte':
      return typeof operand === 'number' || typeof operand === 'string' ? [] : [{ pointer: at, message: `${op} needs a number or a string` }];
    case '$regex':
      if (typeof operand !== 'string') return [{ pointer: at, message: '$regex needs a string' }];
      try {
        new RegExp(operand);
        return [];
      } catch (error) {
        return [{ pointer: at, message: `invalid regular expression: ${(error as Error).message}` }];
      }
    case '$options':
      return typeof operand === 'string' && /^[imsu]*$/.test(operand) ? [] : [{ pointer: at, message: '$options may hold only i, m, s, u' }];
    case '$eq': case '$ne':
      return [];
  }
};

const validateOperatorObject = (operand: JsonObject, at: string): ConditionProblem[] =>
  Object.entries(operand).flatMap(([op, value]) => validateOperator(op, value, `${at}/${escapePointer(op)}`));

/** What sift runs: the whitelist, plus `$type`, which only `withMongoElemMatch` writes. */
const SIFT_OPERATIONS = { ...OPERATIONS, $type: sift.$type };

/**
 * In MongoDB a document query inside `$elemMatch` (`{d: null}`) only looks at
 * elements that are documents; sift would also try scalars, where a missing
 * `d` counts as null. The rewrite adds the "is a document" test.
 */
const withMongoElemMatch = (value: JsonValue): unknown => {
  if (Array.isArray(value)) return value.map(withMongoElemMatch);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, operand]) => {
      const rewritten = withMongoElemMatch(operand);
      if (key === '$elemMatch' && isObject(operand) && Object.keys(operand).some((k) => !k.startsWith('$'))) {
        return [key, { $and: [{ $type: Object }, rewritten] }];
      }
      return [key, rewritten];
    }),
  );
};

/**
 * Compile once per rule; call `validateConditions` first. sift decides; flat
 * conditions over scalar fields take a fast path that gives the same answers.
 */
export const compileConditions = (conditions: Conditions): Matcher => {
  const test = sift.createQueryTester(withMongoElemMatch(conditions) as Conditions, { operations: SIFT_OPERATIONS });
  const flat = compileFlatConditions(conditions);
  if (!flat) return (document) => test(document);
  return (document) => flat(document) ?? test(document);
};

/** sift alone, without the fast path: what the property tests hold the fast path to. */
export const compileWithSift = (conditions: Conditions): Matcher => {
  const test = sift.createQueryTester(withMongoElemMatch(conditions) as Conditions, { operations: SIFT_OPERATIONS });
  return (document) => test(document);
};
