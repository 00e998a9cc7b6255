/**
 * Exact decimal arithmetic for money: a JSON number is read from its shortest
 * decimal text into an integer mantissa and a scale, never through float maths.
 */
export interface Decimal {
  /** value = mantissa / 10^scale */
  readonly mantissa: bigint;
  readonly scale: number;
}

export const toDecimal = (value: number): Decimal => {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
  const [coefficient, exponentText] = value.toString().toLowerCase().split('e') as [string, string | undefined];
  const negative = coefficient.startsWith('-');
  const [whole, fraction = ''] = coefficient.replace('-', '').split('.') as [string, string | undefined];
  const mantissa = BigInt(whole + fraction) * (negative ? -1n : 1n);
  const scale = fraction.length - Number(exponentText ?? 0);
  return scale >= 0 ? { mantissa, scale } : { mantissa: mantissa * 10n ** BigInt(-scale), scale: 0 };
};

export const multiply = (a: Decimal, b: Decimal): Decimal => ({ mantissa: a.mantissa * b.mantissa, scale: a.scale + b.scale });

/** Rounds to `digits` decimals, half away from zero (5.005 → 5.01), and returns the integer count of 10^-digits. */
export const roundToScale = (value: Decimal, digits: number): bigint => {
  if (value.scale <= digits) return value.mantissa * 10n ** BigInt(digits - value.scale);
  const divisor = 10n ** BigInt(value.scale - digits);
  const quotient = value.mantissa / divisor;
  const remainder = value.mantissa % divisor;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice < divisor) return quotient;
  return value.mantissa < 0n ? quotient - 1n : quotient + 1n;
};

/** Both at the larger scale, so their mantissas compare and add. */
const aligned = (a: Decimal, b: Decimal): [bigint, bigint, number] => {
  const scale = Math.max(a.scale, b.scale);
  return [a.mantissa * 10n ** BigInt(scale - a.scale), b.mantissa * 10n ** BigInt(scale - b.scale), scale];
};

export const add = (a: Decimal, b: Decimal): Decimal => {
  const [x, y, scale] = aligned(a, b);
  return { mantissa: x + y, scale };
};

/** Negative, zero or positive as a is less than, equal to or greater than b. */
export const compare = (a: Decimal, b: Decimal): number => {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The integer nearest to whole × part / of, half away from zero; `of` must not be 0. */
export const shareOf = (whole: bigint, part: Decimal, of: Decimal): bigint => {
  const [p, o] = aligned(part, of);
  const numerator = whole * p;
  const quotient = numerator / o;
  const remainder = numerator % o;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  const absOf = o < 0n ? -o : o;
  if (twice < absOf) return quotient;
  return numerator < 0n !== o < 0n ? quotient - 1n : quotient + 1n;
};
