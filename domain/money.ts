import { DomainError } from './domain-error.ts';

/**
 * Money inside Tally is an integer count of the currency's minor unit
 * (cents for EUR), so sums never drift. The HTTP contract speaks major units.
 */
export type Minor = number;

/** The largest amount Tally holds, in minor units: far beyond any real reward or budget, exact as an integer, and within the read models' decimal(20,4). */
export const MAX_MINOR: Minor = 1e15;

const digitsCache = new Map<string, number>();

const currencies = new Set(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code that this runtime's ICU knows (and so knows the minor unit of). */
export const isCurrency = (code: string): boolean => currencies.has(code);

/** How many decimals the currency's minor unit has (EUR 2, JPY 0). */
export const minorDigits = (currency: string): number => {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
};

/**
 * Exact conversion from a JSON decimal: the number's shortest decimal text is
 * split, never multiplied, so 0.1 + 0.2 never happens here.
 */
export const toMinor = (amount: number, currency: string, pointer?: string): Minor => {
  const digits = minorDigits(currency);
  const text = Number.isFinite(amount) ? Math.abs(amount).toString() : '';
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new DomainError('invalid', `${amount} is not a plain decimal amount`, pointer);
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    throw new DomainError('invalid', `${amount} has more decimals than ${currency} allows (${digits})`, pointer);
  }
  const minor = Number(match[1]! + fraction.padEnd(digits, '0'));
  if (!Number.isSafeInteger(minor) || minor > MAX_MINOR) throw new DomainError('invalid', `${amount} is too large`, pointer);
  return amount < 0 ? -minor : minor;
};

export const toMajor = (minor: Minor, currency: string): number => minor / 10 ** minorDigits(currency);
