import { Ajv, type ErrorObject, type Schema } from 'ajv';
import addFormats from 'ajv-formats';
import { badRequest, type FieldError } from './problem.ts';

// discriminator: a oneOf keyed on `type` reports only the errors of the branch the body chose.
const ajv = new Ajv({ allErrors: true, strict: true, discriminator: true });
addFormats.default(ajv);

const toFieldError = (error: ErrorObject): FieldError => {
  // A missing or unexpected property is blamed on that property, not its parent.
  const property = (error.params as { missingProperty?: string; additionalProperty?: string }).missingProperty
    ?? (error.params as { additionalProperty?: string }).additionalProperty;
  const pointer = property === undefined ? error.instancePath : `${error.instancePath}/${property}`;
  const message = error.keyword === 'additionalProperties' ? 'is not allowed' : (error.message ?? 'is invalid');
  return { pointer, message };
};

/** The first string (or key) holding NUL, which PostgreSQL text and jsonb cannot store. */
const nulAt = (value: unknown, pointer: string): string | undefined => {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (key.includes('\u0000')) return at;
    const found = nulAt(item, at);
    if (found) return found;
  }
  return undefined;
};

/** Compiles once; the returned function narrows `body` to T or throws a 400 naming each bad field. */
export const bodyValidator = <T>(schema: Schema): ((body: unknown) => T) => {
  const validate = ajv.compile<T>(schema);
  return (body) => {
    const nul = nulAt(body, '');
    if (nul !== undefined) throw badRequest(`${nul} contains the NUL character (\\u0000), which cannot be stored`, [{ pointer: nul, message: 'must not contain \\u0000' }]);
    if (validate(body)) return body;
    const errors = (validate.errors ?? []).map(toFieldError);
    const first = errors[0];
    throw badRequest(first ? `${first.pointer || 'body'} ${first.message}` : 'invalid body', errors);
  };
};
