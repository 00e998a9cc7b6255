/**
 * How long a provider asked us to wait before the next request, in ms, from
 * `retry-after-ms` (OpenAI's and Anthropic's own) or `retry-after` (seconds or
 * an HTTP date, RFC 9110 §10.2.3); undefined when it did not say (or said
 * nonsense).
 */
export const retryAfterMs = (headers: Headers | undefined, now = Date.now()): number | undefined => {
  const milliseconds = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};
