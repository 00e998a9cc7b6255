import { Ajv, type ErrorObject, type Schema } from 'ajv';
import addFormats from 'ajv-formats';
import { toUtcDateTime } from './date-time.ts';
import { badRequest, type FieldError } from './problem.ts';
import { unstorableAt, type WalkOptions } from './storable-body.ts';
import { pointerToken } from './storable-text.ts';

// discriminator: a oneOf keyed on `type` reports only the errors of the branch the body chose.
const ajv = new Ajv({ allErrors: true, strict: true, discriminator: true });
addFormats.default(ajv);
// In place of ajv-formats' date-time, which takes leap seconds, offsets to ±23:59 and year 0000.
ajv.addFormat('date-time', { type: 'string', validate: (text: string) => toUtcDateTime(text) !== undefined });

const DATE_TIME_MESSAGE = 'must be an RFC 3339 date-time such as 2024-03-10T12:00:00Z or 2024-03-10T13:00:00+01:00 (offset within ±14:00, year 0001 to 9999 in UTC too, no leap second)';

const toFieldError = (error: ErrorObject): FieldError => {
  // A missing or unexpected property is blamed on that property, not its parent.
  const property = (error.params as { missingProperty?: string; additionalProperty?: string }).missingProperty
    ?? (error.params as { additionalProperty?: string }).additionalProperty;
  const pointer = property === undefined ? error.instancePath : `${error.instancePath}/${pointerToken(property)}`;
  const message = error.keyword === 'additionalProperties' ? 'is not allowed'
    : error.keyword === 'format' && error.params.format === 'date-time' ? DATE_TIME_MESSAGE
      : (error.message ?? 'is invalid');
  return { pointer, message };
};

/**
 * Compiles once; the returned function narrows `body` to T or throws a 400
 * naming each bad field. What PostgreSQL could not store is refused first
 * (the walk is also what keeps too deep a body away from the schema check).
 */
export const bodyValidator = <T>(schema: Schema, walk: WalkOptions = {}): ((body: unknown) => T) => {
  const validate = ajv.compile<T>(schema);
  return (body) => {
    const unstorable = unstorableAt(body, walk);
    if (unstorable) throw badRequest(`${unstorable.pointer || 'the body'} ${unstorable.message}`, [unstorable]);
    if (validate(body)) return body;
    // An if/then adds its own error ("must match then schema") to the then-branch's own: those name the field.
    const errors = (validate.errors ?? []).filter((error) => error.keyword !== 'if').map(toFieldError);
    const first = errors[0];
    throw badRequest(first ? `${first.pointer || 'body'} ${first.message}` : 'invalid body', errors);
  };
};
