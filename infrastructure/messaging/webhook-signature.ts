import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old (or how far ahead) a signature's timestamp may be: a receiver refuses a replay older than this. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * `Tally-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">`,
 * after Stripe's: the timestamp is signed with the body, so a receiver can
 * refuse an old signature replayed with its body.
 */
export const signatureHeader = (secret: string, body: string, unixSeconds: number): string =>
  `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;

/**
 * What a receiver does: true when the header signs this body with this secret
 * and its timestamp is within `toleranceSeconds` of `nowSeconds`. The
 * signature alone would accept the same request captured and sent again any
 * time later; the signed timestamp bounds that (the Idempotency-Key drops a
 * replay within the window).
 */
export const verifySignature = (secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean => {
  const fields = new Map((header ?? '').split(',').map((field) => field.split('=', 2) as [string, string]));
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1');
  if (!Number.isInteger(t) || !v1) return false;
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureHeader(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};
