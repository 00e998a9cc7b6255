import { expect } from 'chai';
import fc from 'fast-check';
import RE2 from 're2';
import { compilePattern, patternProblem } from '../../domain/rules/pattern.ts';

/**
 * compilePattern answers plain-text patterns by string comparison and checks
 * a required prefix before calling RE2: on random patterns, options and
 * texts, it gives RE2's own answer.
 */
const plain = fc.constantFrom('a', 'b', 'ab', '-', '1', '\n', 'é', '😀');
const special = fc.constantFrom('^', '$', '.', '*', '+', '?', '|', '(', ')', '[ab]', '{2}', '{1,}', '\\d', '\\$', '\\^', '\\.');
const pattern = fc
  .tuple(fc.constantFrom('', '^'), fc.array(fc.oneof({ arbitrary: plain, weight: 3 }, { arbitrary: special, weight: 2 }), { maxLength: 5 }))
  .map(([anchor, pieces]) => anchor + pieces.join(''))
  .filter((candidate) => patternProblem(candidate) === null);
const options = fc.subarray(['i', 'm', 's', 'u']).map((flags) => flags.join(''));
const text = fc.array(fc.constantFrom('a', 'b', 'A', '-', '1', '\n', 'é', 'É', '😀', '$', '^'), { maxLength: 6 }).map((chars) => chars.join(''));

describe('patterns, property: the shortcuts answer as RE2 does', () => {
  it('on random patterns, options and texts', () => {
    fc.assert(
      fc.property(pattern, options, fc.array(text, { minLength: 1, maxLength: 5 }), (source, flags, texts) => {
        const ours = compilePattern(source, flags);
        const re2 = new RE2(source, flags);
        for (const value of texts) expect(ours(value), `/${source}/${flags} on ${JSON.stringify(value)}`).to.equal(re2.test(value));
      }),
      { numRuns: 3000 },
    );
  });
});
