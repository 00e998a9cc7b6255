import { expect } from 'chai';
import fc from 'fast-check';
import { Query } from 'mingo';
import type { JsonObject, JsonValue } from '../../domain/json.ts';
import { compileConditions, compileWithSift, validateConditions } from '../../domain/rules/conditions.ts';
import { createRuleBook } from '../../domain/rules/rule-book.ts';

/**
 * Tally's matcher (sift, whitelisted operators, validated queries) against
 * mingo, a reference implementation of MongoDB query semantics, on random
 * documents and random queries over every whitelisted operator.
 */

const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'ab', 'B'), fc.boolean(), fc.constant(null));
const nonNull = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'ab', 'B'), fc.boolean());
const nested = fc.record({ c: scalar, d: scalar }, { requiredKeys: [], noNullPrototype: true });
const value: fc.Arbitrary<JsonValue> = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), nested, fc.array(nested, { maxLength: 2 }));
const document: fc.Arbitrary<JsonObject> = fc.record({ a: value, b: value, tags: fc.array(nonNull, { maxLength: 3 }), items: fc.array(nested, { maxLength: 3 }), n: fc.integer({ min: -3, max: 3 }), s: fc.constantFrom('a', 'ab', 'ba', 'b') }, { requiredKeys: [], noNullPrototype: true });

const comparable = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'ab'));
const scalars = fc.array(nonNull, { minLength: 1, maxLength: 3 });

/** Conditions on one field; `literal` is what equality and set operators compare with. */
const operatorExpression = (literal: fc.Arbitrary<JsonValue>, arrayOperators: boolean): fc.Arbitrary<JsonValue> =>
  fc.oneof(
    literal,
    literal.map(($eq) => ({ $eq })),
    literal.map(($ne) => ({ $ne })),
    fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), comparable).map(([op, operand]) => ({ [op]: operand })),
    fc.array(literal, { maxLength: 3 }).map(($in) => ({ $in })),
    fc.array(literal, { maxLength: 3 }).map(($nin) => ({ $nin })),
    fc.boolean().map(($exists) => ({ $exists })),
    // Plain text, a required prefix and the rest run different code (pattern.ts); RE2 answers as RegExp on all of them.
    fc.tuple(fc.constantFrom('^a', 'b$', 'a|c', '^B', 'A', '^ab$', '^(a+)+$', '[ab]b', '^a.'), fc.constantFrom(undefined, 'i', 'imsu')).map(([$regex, $options]): JsonValue => ($options ? { $regex, $options } : { $regex })),
    fc.tuple(fc.constantFrom('$gt', '$lt', '$eq'), comparable).map(([op, operand]) => ({ $not: { [op]: operand } })),
    ...(arrayOperators
      ? [
          fc.integer({ min: 0, max: 3 }).map(($size) => ({ $size })),
          comparable.map(($gt) => ({ $elemMatch: { $gt } })),
        ]
      : []),
  );

/*
 * Where mingo itself departs from MongoDB, the generator does not go: on a dotted
 * path through an array, mingo gathers the values into a new array ($size and
 * $elemMatch then see it) and treats non-document elements as null; so dotted
 * paths get no null operands and no $size / $elemMatch. `$all: [null]` is left
 * out for the same reason, and `$all` is asked only of arrays (or missing fields):
 * on a scalar, MongoDB's documented `$all: [x]` ≡ `x` holds in sift, not in mingo.
 * Likewise `$elemMatch` with a document query is asked only of arrays of
 * documents: mingo matches `{d: false}` against the scalar `false`. Numeric segments (`a.0`, `s.0`) are dotted paths
 * too; into a string they find nothing, as in MongoDB (sift alone read "ab".0 as "a").
 */
const field = fc.oneof(
  fc.tuple(fc.constantFrom('a', 'b', 'n', 's', 'tags', 'missing'), operatorExpression(scalar, true)),
  fc.tuple(fc.constantFrom('tags', 'missing'), scalars.map(($all): JsonValue => ({ $all }))),
  fc.tuple(fc.constantFrom('items', 'missing'), nested.filter((q) => Object.keys(q).length > 0).map(($elemMatch): JsonValue => ({ $elemMatch }))),
  fc.tuple(fc.constantFrom('a.c', 'b.d'), operatorExpression(nonNull, false)),
  fc.tuple(fc.constantFrom('a.0', 's.0', 'tags.1', 'items.0.c', 'a.0.c'), operatorExpression(nonNull, false)),
);
const fieldConditions = fc.uniqueArray(field, { minLength: 1, maxLength: 3, selector: ([path]) => path }).map((entries) => Object.fromEntries(entries) as JsonObject);

const query: fc.Arbitrary<JsonObject> = fc.letrec<{ query: JsonObject }>((tie) => ({
  query: fc.oneof(
    { depthSize: 'small' },
    fieldConditions,
    fc.tuple(fc.constantFrom('$and', '$or', '$nor'), fc.array(tie('query'), { minLength: 1, maxLength: 3 })).map(([op, parts]) => ({ [op]: parts })),
  ),
})).query;

describe('matcher, property: agrees with mingo (MongoDB semantics)', () => {
  it('on random documents and random valid queries', () => {
    fc.assert(
      fc.property(query, document, (conditions, doc) => {
        expect(validateConditions(conditions), JSON.stringify(conditions)).to.deep.equal([]);
        const ours = compileConditions(conditions)(doc);
        const reference = new Query(conditions).test(doc);
        expect(ours, `query ${JSON.stringify(conditions)} on ${JSON.stringify(doc)}`).to.equal(reference);
      }),
      { numRuns: 3000 },
    );
  });

  it('the fast path for flat conditions answers as sift alone does', () => {
    fc.assert(
      fc.property(query, document, (conditions, doc) => {
        expect(compileConditions(conditions)(doc), `query ${JSON.stringify(conditions)} on ${JSON.stringify(doc)}`).to.equal(compileWithSift(conditions)(doc));
      }),
      { numRuns: 3000 },
    );
  });

  it('narrowing by the equality index never loses a matching rule', () => {
    const at = '2026-01-01T00:00:00.000Z';
    fc.assert(
      fc.property(fc.array(query, { minLength: 1, maxLength: 12 }), fc.array(document, { minLength: 1, maxLength: 5 }), (rules, docs) => {
        const book = createRuleBook();
        rules.forEach((conditions, i) => {
          // One campaign per rule, so every matching rule shows in the decision.
          book.apply({ type: 'CampaignCreated', data: { campaignId: `c${i}`, name: 'c', description: null, currency: 'EUR', budget: null, startsAt: null, endsAt: null, status: 'active', createdAt: at } });
          book.apply({ type: 'RuleAdded', data: { campaignId: `c${i}`, ruleId: `r${i}`, name: 'r', priority: 0, conditions, reward: { type: 'fixed', amount: 1 }, beneficiary: 'n', limits: { maxPerBeneficiary: null }, addedAt: at } });
        });
        for (const doc of docs) {
          const withBeneficiary = { ...doc, n: doc.n ?? 0 };
          const expected = rules.flatMap((conditions, i) => (compileConditions(conditions)(withBeneficiary) ? [`r${i}`] : []));
          expect(book.decide(withBeneficiary, at, (c) => c).matches.map((m) => m.ruleId)).to.deep.equal(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
