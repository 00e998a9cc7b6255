import sift from 'sift';
import type { JsonObject, JsonValue } from '../json.ts';
import { compileFlatConditions } from './flat-conditions.ts';
import { patternProblem } from './pattern.ts';
import { SIFT_OPTIONS } from './sift-operations.ts';
import { toSiftQuery } from './sift-query.ts';

/** A MongoDB-style query over a tracked event's document (DESIGN §5). */
export type Conditions = JsonObject;

export type Matcher = (document: JsonObject) => boolean;

export interface ConditionProblem {
  /** JSON pointer into the conditions object. */
  readonly pointer: string;
  readonly message: string;
}

/**
 * Only these operators reach sift (sift-operations.ts). `$where`,
 * `$function`, `$expr` and the rest never do: a rule is data, not code.
 */
const OPERATORS = [
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$regex', '$options',
  '$and', '$or', '$not', '$nor', '$elemMatch', '$size', '$all',
] as const;

type Operator = (typeof OPERATORS)[number];
const isOperator = (key: string): key is Operator => (OPERATORS as readonly string[]).includes(key);

export const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');
const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isOperatorObject = (value: JsonValue | undefined): value is JsonObject => isObject(value) && Object.keys(value).some((k) => k.startsWith('$'));

/** Every problem in a conditions object, each with the exact path that is wrong. */
export const validateConditions = (conditions: JsonValue, pointer = ''): ConditionProblem[] => {
  if (!isObject(conditions)) return [{ pointer, message: 'must be an object' }];
  const problems: ConditionProblem[] = [];
  for (const [key, value] of Object.entries(conditions)) {
    const at = `${pointer}/${escapePointer(key)}`;
    if (key.startsWith('$')) problems.push(...validateOperator(key, value, at, conditions, 'document'));
    else if (key === '') problems.push({ pointer: at, message: 'a field path must not be empty' });
    else if (isOperatorObject(value)) problems.push(...validateOperatorObject(value, at));
  }
  return problems;
};

/** The operators on one field (or under `$not`). */
const validateOperatorObject = (operand: JsonObject, at: string): ConditionProblem[] =>
  Object.entries(operand).flatMap(([op, value]) => {
    const opAt = `${at}/${escapePointer(op)}`;
    if (!op.startsWith('$') && isOperatorObject(operand)) return [{ pointer: opAt, message: 'cannot mix operators and fields' }];
    return validateOperator(op, value, opAt, operand, 'field');
  });

/** Operators whose operand is a list of values: an operator object there is not a value (sift cannot compile it). */
const validateValues = (op: string, items: JsonValue[], at: string): ConditionProblem[] =>
  items.flatMap((item, i) => (isOperatorObject(item) ? [{ pointer: `${at}/${i}`, message: `${op} takes values, not operators` }] : []));

/**
 * One operator; `holder` is the object it sits in. `$and`, `$or` and `$nor`
 * combine whole conditions: under a field MongoDB refuses them, and sift
 * cannot compile them.
 */
const validateOperator = (op: string, operand: JsonValue, at: string, holder: JsonObject, place: 'document' | 'field'): ConditionProblem[] => {
  if (!isOperator(op)) return [{ pointer: at, message: `operator ${op} is not allowed` }];
  switch (op) {
    case '$and': case '$or': case '$nor':
      if (place === 'field') return [{ pointer: at, message: `${op} combines whole conditions; it cannot apply to a field` }];
      if (!Array.isArray(operand) || operand.length === 0) return [{ pointer: at, message: `${op} needs a non-empty array of conditions` }];
      return operand.flatMap((item, i) => validateConditions(item, `${at}/${i}`));
    case '$not':
      return isObject(operand) ? validateOperatorObject(operand, at) : [{ pointer: at, message: '$not needs an operator object' }];
    case '$elemMatch':
      return isObject(operand) ? validateConditions(operand, at) : [{ pointer: at, message: '$elemMatch needs an object' }];
    case '$in': case '$nin':
      return Array.isArray(operand) ? validateValues(op, operand, at) : [{ pointer: at, message: `${op} needs an array` }];
    case '$all':
      // MongoDB matches nothing with an empty $all; sift would match everything: refuse it.
      return Array.isArray(operand) && operand.length > 0 ? validateValues(op, operand, at) : [{ pointer: at, message: '$all needs a non-empty array' }];
    case '$exists':
      return typeof operand === 'boolean' ? [] : [{ pointer: at, message: '$exists needs true or false' }];
    case '$size':
      return Number.isInteger(operand) && (operand as number) >= 0 ? [] : [{ pointer: at, message: '$size needs a non-negative integer' }];
    case '$gt': case '$gte': case '$lt': case '$lte':
      return typeof operand === 'number' || typeof operand === 'string' ? [] : [{ pointer: at, message: `${op} needs a number or a string` }];
    case '$regex': {
      if (typeof operand !== 'string') return [{ pointer: at, message: '$regex needs a string' }];
      const problem = patternProblem(operand);
      return problem === null ? [] : [{ pointer: at, message: problem }];
    }
    case '$options':
      if (typeof operand !== 'string' || !/^[imsu]*$/.test(operand)) return [{ pointer: at, message: '$options may hold only i, m, s, u' }];
      // Alone, sift reads it as no condition at all: the field would match anything.
      return Object.hasOwn(holder, '$regex') ? [] : [{ pointer: at, message: '$options needs a $regex beside it' }];
    case '$eq': case '$ne':
      return [];
  }
};

/**
 * Compile once per rule; call `validateConditions` first. sift decides, with
 * the operations of sift-operations.ts; flat conditions over scalar fields
 * take a fast path that gives the same answers.
 */
export const compileConditions = (conditions: Conditions): Matcher => {
  const flat = compileFlatConditions(conditions);
  if (!flat) return compileWithSift(conditions);
  // The fast path answers most documents alone, so sift is built the first time one is left to it. Built
  // up front for every rule, it made bench:matcher at 1,000 rules up to a third slower in some runs. What
  // the fast path compiles, sift compiles too: no error waits for that first document.
  let test: Matcher | undefined;
  return (document) => flat(document) ?? (test ??= compileWithSift(conditions))(document);
};

/** sift alone, without the fast path: what the property tests hold the fast path to. */
export const compileWithSift = (conditions: Conditions): Matcher => {
  const test = sift.createQueryTester(toSiftQuery(conditions), SIFT_OPTIONS);
  return (document) => test(document);
};

/**
 * For rules already in the log. A rule accepted before a check existed (a
 * lookahead before `$regex` ran on RE2, `$or` under a field) must not stop
 * the engine from reading the log at every start: it matches nothing.
 */
export const compileRecordedConditions = (conditions: Conditions): Matcher => {
  try {
    return compileConditions(conditions);
  } catch {
    return () => false;
  }
};
