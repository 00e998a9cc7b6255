import { expect } from 'chai';
import fc from 'fast-check';
import { Query } from 'mingo';
import type { JsonObject, JsonValue } from '../../domain/json.ts';
import { compileConditions, compileWithSift, validateConditions } from '../../domain/rules/conditions.ts';
import { createRuleBook } from '../../domain/rules/rule-book.ts';

/**
 * Documents and queries whose field names are names JavaScript gives every
 * object, array or string (`constructor`, `__proto__`, `length`, …). A query
 * sees a field only where the document really has it: the matcher, its fast
 * path and the equality index all answer as MongoDB does for any other name.
 */

const NAMES = ['a', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__', 'isPrototypeOf', 'length', 'name'] as const;
const name = fc.constantFrom(...NAMES);

const scalar = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('Object', 'Array', 'String', 'ab', ''), fc.boolean(), fc.constant(null));
/** Built with Object.fromEntries, so that `__proto__` becomes an own field, as JSON.parse makes it. */
const objectOf = (value: fc.Arbitrary<JsonValue>): fc.Arbitrary<JsonObject> =>
  fc.uniqueArray(fc.tuple(name, value), { maxLength: 3, selector: ([key]) => key }).map((entries) => Object.fromEntries(entries) as JsonObject);
const inner = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), objectOf(scalar));
const document = objectOf(fc.oneof(inner, fc.array(objectOf(scalar), { maxLength: 2 })));

const nonNull = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('Object', 'Array', 'String', 'ab', ''), fc.boolean());
/** Conditions on one path; `literal` is what equality and set operators compare with. */
const condition = (literal: fc.Arbitrary<JsonValue>, arrayOperators: boolean): fc.Arbitrary<JsonValue> =>
  fc.oneof(
    literal,
    literal.map(($ne) => ({ $ne })),
    fc.boolean().map(($exists) => ({ $exists })),
    fc.array(literal, { minLength: 1, maxLength: 3 }).map(($in) => ({ $in })),
    fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('A', 'Z'))).map(([op, operand]) => ({ [op]: operand })),
    fc.constantFrom('^Ob', 'ay$', 'r', '^$').map(($regex) => ({ $regex })),
    ...(arrayOperators ? [fc.integer({ min: 0, max: 2 }).map(($size) => ({ $size }))] : []),
  );
// As in matcher-agrees-with-mingo.spec.ts: on a dotted path through an array, mingo departs from MongoDB
// for null operands and $size, so dotted paths get neither.
const field = fc.oneof(
  fc.tuple(name, condition(scalar, true)),
  fc.tuple(fc.tuple(name, name).map(([first, second]) => `${first}.${second}`), condition(nonNull, false)),
);
const query = fc.uniqueArray(field, { minLength: 1, maxLength: 3, selector: ([key]) => key })
  .map((entries) => Object.fromEntries(entries) as JsonObject);

const describeCase = (conditions: JsonObject, doc: JsonObject) => `query ${JSON.stringify(conditions)} on ${JSON.stringify(doc)}`;

/**
 * The reference: mingo on the same query and document with every field name
 * changed to one that no JavaScript object has (`constructor` to
 * `field_constructor`). In MongoDB a field name means nothing more than
 * itself, so the answer must not change; and mingo cannot be asked directly:
 * it refuses `__proto__` in a query and fails on a `constructor` field in a
 * value it compares.
 */
const renamed = (key: string): string => key.split('.').map((part) => `field_${part}`).join('.');
const withNeutralNames = (value: JsonValue): JsonValue => {
  if (Array.isArray(value)) return value.map(withNeutralNames);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.startsWith('$') ? key : renamed(key), withNeutralNames(item)]));
};
const reference = (conditions: JsonObject, doc: JsonObject): boolean =>
  new Query(withNeutralNames(conditions) as JsonObject).test(withNeutralNames(doc) as JsonObject);

describe('matcher, property: reads only the fields a document has', () => {
  it('agrees with mingo, as if the names were any others, on documents and queries named like JavaScript properties', () => {
    fc.assert(
      fc.property(query, document, (conditions, doc) => {
        expect(validateConditions(conditions), JSON.stringify(conditions)).to.deep.equal([]);
        expect(compileConditions(conditions)(doc), describeCase(conditions, doc)).to.equal(reference(conditions, doc));
      }),
      { numRuns: 3000 },
    );
  });

  it('the fast path answers as sift alone does', () => {
    fc.assert(
      fc.property(query, document, (conditions, doc) => {
        expect(compileConditions(conditions)(doc), describeCase(conditions, doc)).to.equal(compileWithSift(conditions)(doc));
      }),
      { numRuns: 3000 },
    );
  });

  it('the equality index never loses a matching rule', () => {
    const at = '2026-01-01T00:00:00.000Z';
    fc.assert(
      fc.property(fc.array(query, { minLength: 1, maxLength: 8 }), fc.array(document, { minLength: 1, maxLength: 4 }), (rules, docs) => {
        const book = createRuleBook();
        rules.forEach((conditions, i) => {
          book.apply({ type: 'CampaignCreated', data: { campaignId: `c${i}`, name: 'c', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: at } });
          book.apply({ type: 'RuleAdded', data: { campaignId: `c${i}`, ruleId: `r${i}`, name: 'r', priority: 0, conditions, reward: { type: 'fixed', amount: 1 }, beneficiary: 'beneficiary', limits: { maxPerBeneficiary: null }, addedAt: at } });
        });
        for (const doc of docs) {
          const withBeneficiary = { ...doc, beneficiary: 'B' };
          const expected = rules.flatMap((conditions, i) => (compileConditions(conditions)(withBeneficiary) ? [`r${i}`] : []));
          expect(book.decide(withBeneficiary, at, (c) => c).matches.map((m) => m.ruleId)).to.deep.equal(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
