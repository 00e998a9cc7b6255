/**
 * Most patterns in rules are plain text, often anchored (`^SKU-`, `-EU$`).
 * A call into RE2 costs some forty times a RegExp test on a short text (about
 * 600 ns), so such patterns are answered by string comparison, and patterns that
 * begin with `^` and some plain text are first checked for that prefix:
 * a quick no for most texts, RE2 for the rest. Both give RE2's answer:
 * without `i` or `m`, plain text means the same code points in both, `^`
 * the start and `$` the very end of the text.
 */

/** Characters with a meaning in a pattern. Anything else stands for itself. */
const SPECIAL = new Set('\\^$.|?*+()[]{}');
// Characters beyond the BMP (and lone surrogates) are left to RE2, which reads code points, not UTF-16 units.
const isPlain = (char: string): boolean => !SPECIAL.has(char) && !(char >= '\ud800' && char <= '\udfff');

export type TextTest = (text: string) => boolean;

/** The whole answer, when the pattern is plain text with optional anchors; else null. */
export const literalTest = (pattern: string, options: string): TextTest | null => {
  if (options.includes('i') || options.includes('m')) return null;
  const start = pattern.startsWith('^');
  const end = pattern.endsWith('$') && pattern.length > (start ? 1 : 0);
  const text = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  if (![...text].every(isPlain)) return null;
  if (start && end) return (value) => value === text;
  if (start) return (value) => value.startsWith(text);
  if (end) return (value) => value.endsWith(text);
  return (value) => value.includes(text);
};

/**
 * Plain text every match must begin with: what follows `^` up to the first
 * special character, less the last character when a quantifier follows it
 * (`^ab*` requires only `a`). Empty when nothing is certain (no `^`, an
 * alternative `|` anywhere, `i` or `m`).
 */
export const requiredPrefix = (pattern: string, options: string): string => {
  if (options.includes('i') || options.includes('m') || !pattern.startsWith('^') || pattern.includes('|')) return '';
  const chars = [...pattern.slice(1)];
  let length = 0;
  while (length < chars.length && isPlain(chars[length]!)) length++;
  const next = chars[length];
  if (next !== undefined && '?*+{'.includes(next)) length = Math.max(0, length - 1);
  return chars.slice(0, length).join('');
};
