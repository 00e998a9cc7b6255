import type { JsonObject, JsonValue } from '../json.ts';
import { valueAt } from '../rules/document-path.ts';
import type { MessageContent } from './message-events.ts';
import { placeholderPaths } from './template.ts';

/** The size of a value as it is stored: UTF-8 bytes of its JSON. */
export const jsonBytes = (value: JsonValue): number => new TextEncoder().encode(JSON.stringify(value)).length;

/** Sets `value` at a dot-notation path, as own fields only (a `__proto__` segment is a field, never the prototype). */
const setAt = (target: JsonObject, keys: readonly string[], value: JsonValue): void => {
  let current = target;
  for (const [index, key] of keys.entries()) {
    if (index === keys.length - 1) {
      Object.defineProperty(current, key, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    const next = Object.hasOwn(current, key) ? current[key] : undefined;
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) current = next;
    else {
      const created: JsonObject = {};
      Object.defineProperty(current, key, { value: created, enumerable: true, writable: true, configurable: true });
      current = created;
    }
  }
};

export type BoundedContext = { readonly ok: true; readonly context: JsonObject } | { readonly ok: false; readonly reason: string };

/**
 * What MessageRequested keeps of `{earning, event, campaign}`: only what
 * composition reads, within `maxBytes`, because it is copied into the log and
 * the store refuses a too large append (and a tracked document may be large).
 * A template keeps the values its placeholders name; a prompt keeps the whole
 * context, or, when that is over the cap, the earning and the campaign with
 * the event's id, type and time only (the model gets less to go on, but the
 * message goes). An explicit body needs none. What is still over the cap is
 * not requested: `reason` says why.
 */
export const boundedContext = (content: MessageContent, full: JsonObject, maxBytes: number): BoundedContext => {
  let context: JsonObject;
  if ('body' in content) context = {};
  else if ('template' in content) {
    context = {};
    for (const path of placeholderPaths(content.template)) {
      const value = valueAt(full, path);
      if (value !== undefined) setAt(context, path.split('.'), value);
    }
  } else if (jsonBytes(full) <= maxBytes) context = full;
  else {
    const event = full.event;
    const brief: JsonObject =
      typeof event === 'object' && event !== null && !Array.isArray(event) ? { id: event.id ?? null, type: event.type ?? null, occurredAt: event.occurredAt ?? null } : {};
    context = { ...full, event: { ...brief, document: `left out: the context was over ${maxBytes} bytes` } };
  }
  const bytes = jsonBytes(context);
  if (bytes > maxBytes) return { ok: false, reason: `the message's context is ${bytes} bytes, over the ${maxBytes} bytes a message may keep` };
  return { ok: true, context };
};
