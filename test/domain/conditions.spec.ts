import { expect } from 'chai';
import type { JsonObject } from '../../domain/json.ts';
import { compileConditions, compileRecordedConditions, compileWithSift, validateConditions } from '../../domain/rules/conditions.ts';

/** The fast path for flat conditions, and sift alone: both must give each answer. */
const bothPaths = (conditions: JsonObject, document: JsonObject): [boolean, boolean] => [compileConditions(conditions)(document), compileWithSift(conditions)(document)];

describe('conditions', () => {
  it('matches dot-notation paths, arrays included, as MongoDB does', () => {
    expect(compileConditions({ 'data.channel': 'web' })({ data: { channel: 'web' } })).to.equal(true);
    expect(compileConditions({ 'items.sku': 'A' })({ items: [{ sku: 'B' }, { sku: 'A' }] })).to.equal(true);
    expect(compileConditions({ tags: 'x' })({ tags: ['y', 'x'] })).to.equal(true);
  });

  it('lets a document query in $elemMatch see documents only, not scalars', () => {
    const missingD = compileConditions({ list: { $elemMatch: { d: null } } });
    expect(missingD({ list: [0, 'a'] })).to.equal(false);
    expect(missingD({ list: [0, {}] })).to.equal(true);
  });

  it('finds every problem with its exact path', () => {
    expect(validateConditions({ a: { $gt: [1] }, $or: [{ b: { $where: 'x' } }], c: { $all: [] }, d: { $options: 'g' } })).to.deep.equal([
      { pointer: '/a/$gt', message: '$gt needs a number or a string' },
      { pointer: '/$or/0/b/$where', message: 'operator $where is not allowed' },
      { pointer: '/c/$all', message: '$all needs a non-empty array' },
      { pointer: '/d/$options', message: '$options may hold only i, m, s, u' },
    ]);
    expect(validateConditions({ 'a/b~c': { $bad: 1 } })).to.deep.equal([{ pointer: '/a~1b~0c/$bad', message: 'operator $bad is not allowed' }]);
  });

  it('refuses what sift cannot compile, so that no accepted rule can stop the engine', () => {
    expect(validateConditions({ a: { $or: [{ b: 1 }] }, c: { $in: [{ $gt: 1 }] }, d: { $all: [1, { $elemMatch: { x: 1 } }] }, e: { $options: 'i' } })).to.deep.equal([
      { pointer: '/a/$or', message: '$or combines whole conditions; it cannot apply to a field' },
      { pointer: '/c/$in/0', message: '$in takes values, not operators' },
      { pointer: '/d/$all/1', message: '$all takes values, not operators' },
      { pointer: '/e/$options', message: '$options needs a $regex beside it' },
    ]);
  });

  it('refuses to compile an operator outside the whitelist even if validation were skipped', () => {
    expect(() => compileConditions({ a: { $where: 'true' } })).to.throw();
    expect(() => compileConditions({ a: { $type: 'string' } })).to.throw();
    expect(() => compileConditions({ $fields: [[['a'], 1]] })).to.throw();
  });

  describe('$regex, on RE2', () => {
    const unrunnable: [feature: string, pattern: string][] = [
      ['a backreference', '(a)\\1'],
      ['a named backreference', '(?<x>a)\\k<x>'],
      ['a lookahead', 'a(?=b)'],
      ['a negative lookahead', 'a(?!b)'],
      ['a lookbehind', '(?<=a)b'],
      ['a negative lookbehind', '(?<!a)b'],
    ];
    for (const [feature, pattern] of unrunnable) {
      it(`refuses ${feature}, naming the exact path`, () => {
        const problems = validateConditions({ code: { $regex: pattern }, $or: [{ items: { $elemMatch: { sku: { $not: { $regex: pattern } } } } }] });
        expect(problems.map((problem) => problem.pointer)).to.deep.equal(['/code/$regex', '/$or/0/items/$elemMatch/sku/$not/$regex']);
        expect(problems[0]!.message).to.match(/^not a pattern Tally can run in linear time/);
      });
    }

    it('still refuses a malformed pattern', () => {
      expect(validateConditions({ code: { $regex: '([' } })).to.have.deep.nested.property('[0].pointer', '/code/$regex');
    });

    it("decides ^(a+)+$ on ten thousand a and a !, which JavaScript's RegExp would not finish, in both paths", () => {
      const conditions = { code: { $regex: '^(a+)+$' } };
      const document = { code: `${'a'.repeat(10_000)}!` };
      const started = performance.now();
      expect(bothPaths(conditions, document)).to.deep.equal([false, false]);
      expect(bothPaths({ 'nested.code': { $regex: '^(a+)+$' }, tags: 'x' }, { nested: document, tags: ['x'] })).to.deep.equal([false, false]);
      expect(performance.now() - started).to.be.below(1_000);
      expect(bothPaths(conditions, { code: 'a'.repeat(10_000) })).to.deep.equal([true, true]);
    });

    it('keeps the meaning of $options i, m, s and u', () => {
      const cases: [JsonObject, string, boolean][] = [
        [{ $regex: '^sku-' }, 'SKU-1', false],
        [{ $regex: '^sku-', $options: 'i' }, 'SKU-1', true],
        [{ $regex: '^b$' }, 'a\nb', false],
        [{ $regex: '^b$', $options: 'm' }, 'a\nb', true],
        [{ $regex: '^a.b$' }, 'a\nb', false],
        [{ $regex: '^a.b$', $options: 's' }, 'a\nb', true],
        [{ $regex: '^.$', $options: 'u' }, '😀', true],
        [{ $regex: '^\\p{L}+$', $options: 'u' }, 'Ünïcode', true],
        [{ $regex: 'X$', $options: 'imsu' }, 'a\nx\nb', true],
      ];
      for (const [operators, text, expected] of cases) {
        expect(bothPaths({ code: operators }, { code: text }), `${JSON.stringify(operators)} on ${JSON.stringify(text)}`).to.deep.equal([expected, expected]);
      }
    });

    it('answers plain-text patterns without RE2 as RE2 would', () => {
      const cases: [string, string, boolean][] = [
        ['^SKU-1', 'SKU-12', true], ['^SKU-1', 'XSKU-1', false], ['-EU$', 'A-EU', true], ['-EU$', 'A-EU\n', false],
        ['^ab$', 'ab', true], ['^ab$', 'abc', false], ['b', 'abc', true], ['', 'x', true], ['^', '', true], ['^$', '', true],
        ['^SKU-\\d+$', 'SKU-42', true], ['^SKU-\\d+$', 'SKU-x', false], ['^ab*c', 'ac', true], ['^a|b', 'xb', true],
      ];
      for (const [pattern, text, expected] of cases) {
        expect(bothPaths({ code: { $regex: pattern } }, { code: text }), `${pattern} on ${JSON.stringify(text)}`).to.deep.equal([expected, expected]);
      }
    });

    it('lets a rule recorded before RE2 with a pattern RE2 cannot run match nothing, instead of stopping the engine', () => {
      expect(() => compileConditions({ code: { $regex: 'a(?=b)' } })).to.throw();
      expect(compileRecordedConditions({ code: { $regex: 'a(?=b)' } })({ code: 'ab' })).to.equal(false);
      expect(compileRecordedConditions({ code: { $not: { $regex: 'a(?=b)' } } })({ code: 'x' })).to.equal(false);
    });
  });

  describe('fields JavaScript adds', () => {
    const proto = JSON.parse('{"__proto__": {"x": 1}}') as JsonObject;
    const cases: [string, JsonObject, JsonObject, boolean][] = [
      ['constructor.name on a plain document', { 'constructor.name': 'Object' }, { type: 'purchase' }, false],
      ['constructor.name where the document has it', { 'constructor.name': 'Object' }, { constructor: { name: 'Object' } }, true],
      ['toString exists', { toString: { $exists: true } }, {}, false],
      ['toString does not exist', { toString: { $exists: false } }, {}, true],
      ['toString equals null (missing)', { toString: null }, {}, true],
      ['hasOwnProperty exists', { hasOwnProperty: { $exists: true } }, {}, false],
      ['valueOf is not null', { valueOf: { $ne: null } }, {}, false],
      ['__defineGetter__ exists', { __defineGetter__: { $exists: true } }, { a: 1 }, false],
      ['__proto__ exists', JSON.parse('{"__proto__": {"$exists": true}}') as JsonObject, {}, false],
      ['__proto__ exists where it is a field', JSON.parse('{"__proto__": {"$exists": true}}') as JsonObject, proto, true],
      ['__proto__.x where it is a field', JSON.parse('{"__proto__.x": 1}') as JsonObject, proto, true],
      ['an array\'s length', { 'tags.length': 2 }, { tags: ['a', 'b'] }, false],
      ['an array\'s length exists', { 'tags.length': { $exists: true } }, { tags: ['a'] }, false],
      ['length of the documents in an array', { 'items.length': 5 }, { items: [{ length: 5 }] }, true],
      ['an array\'s constructor', { 'tags.constructor.name': 'Array' }, { tags: ['a'] }, false],
      ['a string\'s length', { 'code.length': 3 }, { code: 'abc' }, false],
      ['a string\'s length exists', { 'code.length': { $exists: true } }, { code: 'abc' }, false],
      ['a string\'s character', { 'code.0': 'a' }, { code: 'abc' }, false],
      ['a number\'s constructor', { 'amount.constructor.name': { $regex: '^Num' } }, { amount: 5 }, false],
      ['an inherited field inside equality', { a: JSON.parse('{"__proto__": {}}') as JsonObject }, { a: { x: 1 } }, false],
      ['an inherited field in $elemMatch', { items: { $elemMatch: { 'constructor.name': 'Object' } } }, { items: [{ sku: 'A' }] }, false],
      ['an inherited field in $or', { $or: [{ toString: { $exists: true } }, { valueOf: { $exists: true } }] }, {}, false],
    ];
    for (const [name, conditions, document, expected] of cases) {
      it(`${name}: ${expected ? 'matches' : 'does not match'}, in both paths`, () => {
        expect(validateConditions(conditions)).to.deep.equal([]);
        expect(bothPaths(conditions, document)).to.deep.equal([expected, expected]);
      });
    }
  });
});
