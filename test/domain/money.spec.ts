import { expect } from 'chai';
import { DomainError } from '../../domain/domain-error.ts';
import { toMajor, toMinor } from '../../domain/money.ts';

describe('money', () => {
  it('converts decimal amounts to minor units exactly', () => {
    expect(toMinor(5, 'EUR')).to.equal(500);
    expect(toMinor(0.1, 'EUR') + toMinor(0.2, 'EUR')).to.equal(30);
    expect(toMinor(1234.56, 'EUR')).to.equal(123456);
    expect(toMinor(19.99, 'USD')).to.equal(1999);
    expect(toMinor(500, 'JPY')).to.equal(500);
  });

  it('refuses amounts finer than the minor unit instead of rounding them', () => {
    expect(() => toMinor(1.005, 'EUR')).to.throw(DomainError);
    expect(() => toMinor(1.5, 'JPY')).to.throw(DomainError);
  });

  it('converts back to major units', () => {
    expect(toMajor(123456, 'EUR')).to.equal(1234.56);
    expect(toMajor(500, 'JPY')).to.equal(500);
  });
});
