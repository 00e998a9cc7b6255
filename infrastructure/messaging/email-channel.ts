import nodemailer from 'nodemailer';
import type { Deliver } from './channel.ts';

export interface EmailOptions {
  /** Unset: every email fails with a message saying so. */
  readonly smtpUrl: string | undefined;
  readonly from: string;
}

export interface EmailChannel {
  readonly deliver: Deliver;
  close(): void;
}

/**
 * Email through nodemailer over SMTP. The Message-ID derives from the message
 * id, so a repeat after a crash carries the same one and mail systems that
 * deduplicate on it can.
 */
export const emailChannel = ({ smtpUrl, from }: EmailOptions): EmailChannel => {
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  return {
    deliver: async ({ messageId, recipient, body, subject }, signal) => {
      if (!transport) throw new Error('SMTP_URL is not set: email cannot be sent');
      if (signal.aborted) throw signal.reason;
      await transport.sendMail({ from, to: recipient, subject: subject ?? 'A message from Tally', text: body, messageId: `<${messageId}@tally>` });
    },
    close: () => transport?.close(),
  };
};
