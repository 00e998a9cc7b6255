import { expect } from 'chai';
import { toUtcDateTime } from '../../infrastructure/http/date-time.ts';

describe('RFC 3339 date-times', () => {
  it('takes RFC 3339 with Z or an offset, and gives the instant in UTC to the millisecond', () => {
    expect(toUtcDateTime('2024-03-10T12:00:00Z')).to.equal('2024-03-10T12:00:00.000Z');
    expect(toUtcDateTime('2024-03-10t12:00:00z')).to.equal('2024-03-10T12:00:00.000Z');
    expect(toUtcDateTime('2024-03-10T13:30:00+01:30')).to.equal('2024-03-10T12:00:00.000Z');
    expect(toUtcDateTime('2024-03-10T00:00:00-00:00')).to.equal('2024-03-10T00:00:00.000Z');
    expect(toUtcDateTime('2024-03-01T01:00:00+14:00')).to.equal('2024-02-29T11:00:00.000Z');
    expect(toUtcDateTime('2024-12-31T23:00:00-14:00')).to.equal('2025-01-01T13:00:00.000Z');
    expect(toUtcDateTime('2024-03-10T12:00:00.5Z')).to.equal('2024-03-10T12:00:00.500Z');
  });

  it('cuts fractions finer than a millisecond off, never rounding into the next second or year', () => {
    expect(toUtcDateTime('2024-03-10T12:00:00.123456789Z')).to.equal('2024-03-10T12:00:00.123Z');
    expect(toUtcDateTime('9999-12-31T23:59:59.9999999Z')).to.equal('9999-12-31T23:59:59.999Z');
  });

  it('takes the years 0001 to 9999, before and after the move to UTC', () => {
    expect(toUtcDateTime('0001-01-01T00:00:00Z')).to.equal('0001-01-01T00:00:00.000Z');
    expect(toUtcDateTime('0099-06-15T00:00:00Z')).to.equal('0099-06-15T00:00:00.000Z');
    expect(toUtcDateTime('9999-12-31T23:59:59Z')).to.equal('9999-12-31T23:59:59.000Z');
    expect(toUtcDateTime('0000-06-15T00:00:00Z')).to.equal(undefined);
    expect(toUtcDateTime('0001-01-01T00:00:00+14:00'), 'year 0000 in UTC').to.equal(undefined);
    expect(toUtcDateTime('9999-12-31T23:59:59-00:01'), 'year 10000 in UTC').to.equal(undefined);
  });

  it('refuses what PostgreSQL or Date.parse would not read as the same instant', () => {
    for (const text of [
      '2016-12-31T23:59:60Z', // a leap second: Date.parse gives NaN
      '2024-01-01T00:00:00+16:00', // PostgreSQL: time zone displacement out of range
      '2024-01-01T00:00:00+14:01',
      '2024-01-01T00:00:00-14:30',
      '2024-01-01T00:00:00+01:60',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:60:00Z',
    ]) {
      expect(toUtcDateTime(text), text).to.equal(undefined);
    }
  });

  it('refuses what is not RFC 3339', () => {
    for (const text of [
      '2024-01-01', '2024-01-01T00:00:00', '2024-01-01 00:00:00Z', '2024-01-01T00:00Z', '2024-01-01T00:00:00+0100',
      '2024-01-01T00:00:00+01', '2024-01-01T00:00:00.Z', '+002024-01-01T00:00:00Z', '20240101T000000Z',
      '2024-1-01T00:00:00Z', 'Mon, 01 Jan 2024 00:00:00 GMT', '1704067200', ' 2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z\n',
      '２０２４-01-01T00:00:00Z', '',
    ]) {
      expect(toUtcDateTime(text), JSON.stringify(text)).to.equal(undefined);
    }
  });
});
