import type { Channel } from './notifications.ts';

/** The longest recipient kept for any channel: an address or an id, never a document. */
export const MAX_RECIPIENT_LENGTH = 320;

/** RFC 5321's limit on a forward path. */
const MAX_EMAIL_LENGTH = 254;

/**
 * One plain address, `local@domain.tld`: no display name, no list, no
 * whitespace and none of the characters that separate addresses or headers
 * (`,` `;` CR LF). Narrower than RFC 5322 on purpose: the recipient comes from
 * customer data, and nodemailer reads `"a@x, v@evil"` as two recipients.
 */
const EMAIL = /^[^\s@,;<>()[\]\\":]+@[^\s@,;<>()[\]\\":]+\.[^\s@,;<>()[\]\\":.]+$/;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why this recipient cannot be sent to on this channel, or undefined when it can. */
export const recipientProblem = (channel: Channel, recipient: string): string | undefined => {
  if (recipient.trim() === '') return 'the recipient is empty';
  if (recipient.length > MAX_RECIPIENT_LENGTH) return `the recipient is longer than ${MAX_RECIPIENT_LENGTH} characters`;
  if (CONTROL.test(recipient)) return 'the recipient has control characters (CR, LF, …)';
  if (channel !== 'email') return undefined;
  if (recipient.length > MAX_EMAIL_LENGTH || !EMAIL.test(recipient)) return 'the recipient is not one plain email address (local@domain, no list, no display name)';
  return undefined;
};

/** A recipient fit to be shown in a refusal: cut to the length any recipient may have. */
export const shownRecipient = (recipient: string): string => (recipient.length > MAX_RECIPIENT_LENGTH ? `${recipient.slice(0, MAX_RECIPIENT_LENGTH - 1)}…` : recipient);
