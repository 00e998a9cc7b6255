/**
 * Text PostgreSQL cannot store: NUL (neither text nor jsonb takes it) and a
 * lone UTF-16 surrogate (jsonb refuses its `\ud800` escape; text would get
 * U+FFFD instead, silently). Found on the way in, such text is a 400; found
 * by PostgreSQL, it was a 500, or worse a read model stuck on it forever.
 */
// eslint-disable-next-line no-control-regex -- NUL is the very character looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored (the message of a field error), or undefined. */
export const unstorableText = (text: string): string | undefined => {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  return `must not contain ${found === '\u0000' ? 'the NUL character (\\u0000)' : 'a lone UTF-16 surrogate'}: PostgreSQL cannot store it`;
};

/** One reference token of a JSON pointer (RFC 6901). */
export const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');
