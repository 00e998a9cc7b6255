// re2 is CommonJS: under Node's ESM its whole module.exports (the RE2 class) is the default import.
import RE2 from 're2';
import { literalTest, requiredPrefix } from './literal-pattern.ts';

/**
 * `$regex` runs on RE2, whose matching time grows linearly with the text.
 * JavaScript's RegExp backtracks: one rule such as `^(a+)+$` and a field of
 * forty characters hold the process for hours (each character doubles it),
 * and again at every restart, since the engine re-reads the log. RE2 buys
 * that bound by leaving out backreferences and lookaround, so patterns using
 * them are refused when the rule is added.
 *
 * RE2 always reads a pattern by code point, as MongoDB's PCRE does: the `u`
 * option is accepted and changes nothing. `i`, `m` and `s` keep their meaning
 * (only `\n` ends a line for `m`, as in MongoDB).
 */
export type PatternTest = (text: string) => boolean;

/** Why RE2 cannot run this pattern, or null when it can. */
export const patternProblem = (pattern: string): string | null => {
  try {
    new RE2(pattern);
    return null;
  } catch (error) {
    return `not a pattern Tally can run in linear time (no backreferences, lookahead or lookbehind): ${(error as Error).message}`;
  }
};

/** `options` holds only i, m, s and u (validated with the rule). */
export const compilePattern = (pattern: string, options: string): PatternTest => {
  const literal = literalTest(pattern, options);
  if (literal) return literal;
  const expression = new RE2(pattern, options);
  const prefix = requiredPrefix(pattern, options);
  if (prefix === '') return (text) => expression.test(text);
  return (text) => text.startsWith(prefix) && expression.test(text);
};
