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

/** Compiles once; the returned function narrows `body` to T or throws a 400 naming each bad field. */
export const bodyValidator = <T>(schema: Schema): ((body: unknown) => T) => {
  const validate = ajv.compile<T>(schema);
  return (body) => {
    if (validate(body)) return body;
    const errors = (validate.errors ?? []).map(toFieldError);
    const first = errors[0];
    throw badRequest(first ? `${first.pointer || 'body'} ${first.message}` : 'invalid body', errors);
  };
};
