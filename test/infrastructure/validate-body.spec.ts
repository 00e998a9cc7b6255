import { expect } from 'chai';
import { createCampaignSchema, trackEventBatchSchema } from '../../commands/http/request-schemas.ts';
import type { Problem } from '../../infrastructure/http/problem.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';

const refusal = (validate: (body: unknown) => unknown, body: unknown): Problem => {
  try {
    validate(body);
  } catch (error) {
    return error as Problem;
  }
  throw new Error('accepted');
};

describe('request body validation', () => {
  const validateCampaign = bodyValidator(createCampaignSchema);

  it('names an unexpected property with an exact JSON pointer', () => {
    expect(refusal(validateCampaign, { name: 'c', 'a/b~c': 1 }).errors).to.deep.equal([{ pointer: '/a~1b~0c', message: 'is not allowed' }]);
  });

  it('says what a date-time must be', () => {
    const [error] = refusal(validateCampaign, { name: 'c', startsAt: '2016-12-31T23:59:60Z' }).errors ?? [];
    expect(error?.pointer).to.equal('/startsAt');
    expect(error?.message).to.match(/^must be an RFC 3339 date-time/);
  });

  it('refuses unstorable text before the schema, and leaves batch items to be checked one by one', () => {
    expect(refusal(validateCampaign, { 'x\u0000': 1 }).errors?.[0]?.pointer).to.equal('/x\u0000');
    const validateBatch = bodyValidator(trackEventBatchSchema, { opaque: '/events' });
    expect(validateBatch({ events: [{ note: '\ud800' }] })).to.deep.equal({ events: [{ note: '\ud800' }] });
  });
});
