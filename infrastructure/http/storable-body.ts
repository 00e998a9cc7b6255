import type { FieldError } from './problem.ts';
import { pointerToken, unstorableText } from './storable-text.ts';

/**
 * How deep a body may nest, the body itself being level 1 (MongoDB's limit
 * for documents). PostgreSQL parses jsonb recursively and gives up between
 * 10,000 and 20,000 levels with its default 2 MB stack; a tracked event's
 * document lands a few levels down in an event, a batch of them one more.
 * 100 leaves a wide margin there, and for every recursive walk in Node.
 */
export const MAX_DEPTH = 100;

export interface WalkOptions {
  /** A container whose children are checked elsewhere, one by one (the items of a batch). */
  readonly opaque?: string;
}

/**
 * The first place, in document order, that PostgreSQL could not store: text
 * it refuses (in a value or a key), or nesting deeper than MAX_DEPTH. A loop
 * over an explicit stack: a recursive walk overflows on the very bodies it
 * should refuse.
 */
export const unstorableAt = (body: unknown, { opaque }: WalkOptions = {}): FieldError | undefined => {
  const stack: { value: unknown; pointer: string; depth: number; key?: string }[] = [{ value: body, pointer: '', depth: 1 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, pointer, depth, key } = next;
    const keyMessage = key === undefined ? undefined : unstorableText(key);
    if (keyMessage) return { pointer, message: `key ${keyMessage}` };
    if (typeof value === 'string') {
      const message = unstorableText(value);
      if (message) return { pointer, message };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_DEPTH) return { pointer, message: `nests deeper than ${MAX_DEPTH} levels` };
    if (pointer === opaque) continue;
    const children = Object.entries(value);
    // Pushed last to first, so that the first problem in the body is the one reported.
    for (let index = children.length - 1; index >= 0; index--) {
      const [childKey, child] = children[index]!;
      stack.push({ value: child, pointer: `${pointer}/${pointerToken(childKey)}`, depth: depth + 1, key: childKey });
    }
  }
  return undefined;
};
