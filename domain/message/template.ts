import type { JsonObject, JsonValue } from '../json.ts';
import { valueAt } from '../rules/document-path.ts';

export interface Rendered {
  readonly text: string;
  /** Placeholders whose path the context does not have: rendered empty, and named here so the caller can say so. */
  readonly missing: readonly string[];
}

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** The paths a template's placeholders name, each once. */
export const placeholderPaths = (template: string): string[] => [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))];

const asText = (value: JsonValue): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * `{{path}}` placeholders filled from the context by dot-notation path
 * (`{{earning.amount}}`, `{{event.data.email}}`). Plain text: nothing is
 * escaped, since no channel renders HTML. Objects and arrays come out as JSON.
 */
export const renderTemplate = (template: string, context: JsonObject): Rendered => {
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (_whole, path: string) => {
    const value = valueAt(context, path);
    if (value === undefined || value === null) {
      missing.push(path);
      return '';
    }
    return asText(value);
  });
  return { text, missing };
};
