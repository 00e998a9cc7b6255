import { expect } from 'chai';
import fc from 'fast-check';
import type { JsonValue } from '../../domain/json.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/**
 * Whatever the command API accepts, the read models can store: a body answered
 * 2xx that PostgreSQL refuses later leaves its projection stuck on it for good.
 * Random bodies for POST /events (alone and in batches) and POST /campaigns,
 * with odd text (NUL, lone surrogates, emoji), date-times valid and not,
 * odd keys and deep nesting, against a running Tally with every role.
 */

const oddCharacter = fc.oneof(
  { weight: 100, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 10, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.constantFrom('\ud83c\udf89', '\ufeff', '\uffff', '\u2028', '\u0001', '\\', '"', '~', '/', '.', '$') },
  // Rare enough that most bodies carry none.
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff') },
);
const text = fc.string({ unit: oddCharacter, maxLength: 10 });
const key = fc.oneof({ weight: 5, arbitrary: text }, fc.constantFrom('__proto__', 'constructor', '', '$where', 'a.b', 'id', 'type', 'customerId'));

/** Zero-padded numbers, now and then out of the valid range. */
const field = (width: number, valid: [number, number], any: [number, number]) =>
  fc.oneof({ weight: 12, arbitrary: fc.integer({ min: valid[0], max: valid[1] }) }, fc.integer({ min: any[0], max: any[1] })).map((n) => String(n).padStart(width, '0'));
const offset = fc.oneof(
  fc.constantFrom('Z', 'Z', 'z', ''),
  fc.tuple(fc.constantFrom('+', '-'), field(2, [0, 14], [0, 16]), fc.oneof({ weight: 12, arbitrary: fc.constantFrom('00', '30', '45') }, fc.constantFrom('59', '60'))).map(([sign, h, m]) => `${sign}${h}:${m}`),
);
/** RFC 3339 in shape, with a field out of range now and then. */
const shapedDateTime = fc
  .tuple(
    fc.oneof(field(4, [1, 9999], [0, 9999]), fc.constantFrom('0000', '0001', '9999')), field(2, [1, 12], [0, 13]), field(2, [1, 28], [0, 32]),
    fc.constantFrom('T', 'T', 'T', 'T', 't', ' '), field(2, [0, 23], [0, 24]), field(2, [0, 59], [0, 60]), field(2, [0, 59], [0, 60]),
    fc.constantFrom('', '.5', '.123456', '.9999999999'), offset,
  )
  .map(([y, mo, d, t, h, mi, s, fraction, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${fraction}${zone}`);
const isoDateTime = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((date) => date.toISOString());
const dateTime = fc.oneof(
  { weight: 6, arbitrary: shapedDateTime },
  { weight: 3, arbitrary: isoDateTime },
  fc.constantFrom('2016-12-31T23:59:60Z', '0001-01-01T00:00:00+14:00', '9999-12-31T23:59:59-14:00', '2024-01-01T00:00:00+16:00', 'yesterday', ''),
);

const nested = (depth: number): JsonValue => {
  let value: JsonValue = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { n: value };
  return value;
};

const { json } = fc.letrec<{ json: JsonValue; array: JsonValue[]; object: Record<string, JsonValue> }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text, dateTime, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null),
    tie('array'), tie('object'),
  ),
  array: fc.array(tie('json'), { maxLength: 4 }),
  // fromEntries makes __proto__ an own key, as JSON.parse does.
  object: fc.array(fc.tuple(key, tie('json')), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
}));

const eventBody = fc
  .tuple(
    fc.array(fc.tuple(key, json), { maxLength: 5 }),
    fc.option(dateTime, { freq: 2, nil: undefined }),
    fc.option(text, { freq: 2, nil: undefined }),
    // Now and then just under or over the nesting limit.
    fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, fc.integer({ min: 95, max: 102 }).map(nested)),
  )
  .map(([entries, occurredAt, type, deep]) =>
    Object.fromEntries([...entries, ...(occurredAt === undefined ? [] : [['occurredAt', occurredAt]]), ...(type === undefined ? [] : [['type', type]]), ...(deep === undefined ? [] : [['deep', deep]])]),
  );

const campaignBody = fc.record(
  {
    name: fc.oneof({ weight: 4, arbitrary: fc.string({ unit: oddCharacter, minLength: 1, maxLength: 10 }) }, text),
    description: text,
    currency: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('EUR', 'JPY', 'BHD') }, fc.constantFrom('XXX', 'eur')),
    budget: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0.01, 100, 1e12) }, fc.double({ noNaN: true, noDefaultInfinity: true })),
    startsAt: dateTime,
    endsAt: fc.oneof(dateTime, { weight: 3, arbitrary: fc.date({ min: new Date('2100-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()) }),
  },
  { requiredKeys: ['name'] },
);

describe('property: every body the command API accepts is projected', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('decides every accepted event and serves every accepted campaign', async () => {
    const sent = { events: 0, accepted: 0, campaigns: 0, created: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(eventBody, { minLength: 10, maxLength: 20 }), fc.array(campaignBody, { minLength: 1, maxLength: 5 }), async (events, campaigns) => {
        // Sent one after another, so that the first event stuck is the one that stuck the projection.
        const accepted: { id: string; body: unknown }[] = [];
        const half = Math.ceil(events.length / 2);
        for (const body of events.slice(0, half)) {
          const reply = await app.commands.post('/events', body);
          expect(reply.status, JSON.stringify(reply.body)).to.be.oneOf([202, 400, 409]);
          if (reply.status === 202) accepted.push({ id: reply.body.id, body });
        }
        const batch = await app.commands.post('/events/batch', { events: events.slice(half) });
        expect(batch.status).to.equal(202);
        for (const [index, result] of (batch.body.results as { status: number; body?: { id: string } }[]).entries()) {
          expect(result.status, JSON.stringify(result)).to.be.oneOf([202, 400, 409]);
          if (result.status === 202) accepted.push({ id: result.body!.id, body: events[half + index] });
        }
        const created: { id: string; body: unknown }[] = [];
        for (const body of campaigns) {
          const reply = await app.commands.post('/campaigns', body);
          expect(reply.status, JSON.stringify(reply.body)).to.be.oneOf([201, 400]);
          if (reply.status === 201) created.push({ id: reply.body.id, body });
        }
        for (const { id, body } of accepted) {
          const decided = await app.queries.get(`/events/${encodeURIComponent(id)}?wait=5`);
          expect(decided.status, `event ${JSON.stringify(body)}`).to.equal(200);
          expect(decided.body.status, `event ${JSON.stringify(body)}`).to.not.equal('pending');
        }
        for (const { id, body } of created) {
          let reply = await app.queries.get(`/campaigns/${id}`);
          for (let i = 0; i < 100 && reply.status === 404; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            reply = await app.queries.get(`/campaigns/${id}`);
          }
          expect(reply.status, `campaign ${JSON.stringify(body)}`).to.equal(200);
        }
        sent.events += events.length;
        sent.accepted += accepted.length;
        sent.campaigns += campaigns.length;
        sent.created += created.length;
      }),
      // A stuck projection holds back every later event too: shrinking would only blame innocent ones.
      { numRuns: 20, endOnFailure: true },
    );
    // Not vacuous: plenty of both kinds got in, and plenty were refused.
    expect(sent.accepted, JSON.stringify(sent)).to.be.above(sent.events * 0.2).and.below(sent.events * 0.9);
    expect(sent.created, JSON.stringify(sent)).to.be.above(0).and.below(sent.campaigns);
  });
});
