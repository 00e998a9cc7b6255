/**
 * RFC 3339 date-times (§5.6), the only date-time the HTTP API takes. Stricter
 * than the format of JSON Schema validators on purpose: what passes here is
 * what PostgreSQL timestamptz, JavaScript Dates and the rule book all read as
 * the same instant. No leap second (23:59:60: Date.parse has none), offsets
 * within ±14:00 (the real ones; PostgreSQL refuses beyond ±15:59), years
 * 0001–9999 before and after the move to UTC (PostgreSQL has no year 0000).
 */

// T and Z may be lower case (RFC 3339 §5.6, note); the offset needs its colon.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const MAX_OFFSET_MINUTES = 14 * 60;

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const daysIn = (year: number, month: number): number => (month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);
const inYearRange = (year: number): boolean => year >= 1 && year <= 9999;

/**
 * The same instant in UTC (`2024-03-10T11:00:00.123Z`), or undefined when
 * `text` is not a date-time the API takes. Fractions finer than a millisecond
 * are cut off, never rounded: rounding could carry into the next second, day,
 * or year 10000, and Dates (the rule book, the schedule) hold milliseconds only.
 */
export const toUtcDateTime = (text: string): string | undefined => {
  const parts = RFC_3339.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!inYearRange(year) || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const [, , , , , , , fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = parts;
  if (Number(offsetMinutes) > 59) return undefined;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  if (Math.abs(offset) > MAX_OFFSET_MINUTES) return undefined;
  const utc = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute - offset, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  return inYearRange(utc.getUTCFullYear()) ? utc.toISOString() : undefined;
};

/** `toUtcDateTime` for text already validated as a date-time. */
export const utcDateTime = (text: string): string => {
  const utc = toUtcDateTime(text);
  if (utc === undefined) throw new TypeError(`${text} is not a validated date-time`);
  return utc;
};
