import { DomainError } from '../domain-error.ts';

export type Channel = 'log' | 'webhook' | 'email';

export const CHANNELS: readonly Channel[] = ['log', 'webhook', 'email'];

/**
 * The words of one kind of message: exactly one of a template and a prompt,
 * and, for email, a subject of its own.
 */
export interface MessageWording {
  readonly template?: string;
  readonly prompt?: string;
  /** Email subject of this kind of message; the notifications' subject (or the campaign's name) when absent. */
  readonly subject?: string;
}

/**
 * What a campaign sends for each of its earnings (issue 10): through which
 * channel, to whom (a path into the tracked event's document, resolved when
 * the earning is granted), and what (a template, or a prompt for the LLM).
 * The grant's message has the main wording; an approval's and a reversal's
 * (issue 11) their own when given, else a default (see lifecycle-wording.ts).
 */
export interface CampaignNotifications {
  readonly channel: Channel;
  /** Dot-notation path into the tracked event's document (`data.email`); falls back to the earning's own fields (`beneficiaryId`). */
  readonly recipient: string;
  readonly template?: string;
  readonly prompt?: string;
  /** Email subject; the campaign's name when absent. */
  readonly subject?: string;
  /** Where webhook messages are POSTed; required for `webhook`. */
  readonly webhookUrl?: string;
  /** The HMAC key of webhook signatures; the global WEBHOOK_SECRET when absent. */
  readonly secret?: string;
  /** The words of the message sent when a held earning is approved. */
  readonly onApproved?: MessageWording;
  /** The words of the message sent for each reversal (a refund, full or partial) of an earning. */
  readonly onReversed?: MessageWording;
}

/** The wordings a campaign may give besides its main one, by their field. */
export const LIFECYCLE_WORDINGS = ['onApproved', 'onReversed'] as const;

/** Same rule as rule beneficiaries: no `$`, no empty segment (`a..b`, `.a`, `a.`). */
export const isDocumentPath = (path: string): boolean => path.length > 0 && !path.includes('$') && path.split('.').every((segment) => segment.length > 0);

/** Throws the first problem, with its pointer under `at` (`/notifications`). */
export const validateNotifications = (notifications: CampaignNotifications, at: string): void => {
  const { channel, recipient, template, prompt, webhookUrl } = notifications;
  if (!CHANNELS.includes(channel)) throw new DomainError('invalid', `channel must be one of ${CHANNELS.join(', ')}`, `${at}/channel`);
  if (!isDocumentPath(recipient)) throw new DomainError('invalid', 'recipient must be a dot-notation document path such as data.email', `${at}/recipient`);
  if ((template === undefined) === (prompt === undefined)) throw new DomainError('invalid', 'give exactly one of template and prompt', at);
  for (const field of LIFECYCLE_WORDINGS) {
    const wording = notifications[field];
    if (wording !== undefined && (wording.template === undefined) === (wording.prompt === undefined)) {
      throw new DomainError('invalid', `give exactly one of template and prompt in ${field}`, `${at}/${field}`);
    }
  }
  if (channel === 'webhook' && webhookUrl === undefined) throw new DomainError('invalid', 'a webhook channel needs webhookUrl', `${at}/webhookUrl`);
  if (webhookUrl !== undefined && !isHttpUrl(webhookUrl)) throw new DomainError('invalid', 'webhookUrl must be an http or https URL', `${at}/webhookUrl`);
  if (webhookUrl !== undefined && hasCredentials(webhookUrl)) throw new DomainError('invalid', CREDENTIALS_REFUSED, `${at}/webhookUrl`);
};

export const CREDENTIALS_REFUSED = 'webhookUrl must not carry credentials (user:password@): they would be stored and shown in the log; sign with the secret instead';

/** `http://user:pass@host`: a URL that would put a password in the log of events, in GET /campaigns and in error texts. */
export const hasCredentials = (text: string): boolean => {
  if (!URL.canParse(text)) return false;
  const { username, password } = new URL(text);
  return username !== '' || password !== '';
};

/** What error texts and logs say of a webhook URL: its origin only, never its path, query or credentials. */
export const urlOrigin = (text: string): string => (URL.canParse(text) ? new URL(text).origin : 'an unparsable URL');

export const isHttpUrl = (text: string): boolean => {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:';
};
