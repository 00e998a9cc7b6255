import nodemailer from 'nodemailer';
import type { Deliver } from './channel.ts';

export interface EmailOptions {
  /** Unset: every email fails with a message saying so. */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  /** EMAIL_TIMEOUT_MS: the bound of connecting, of the greeting, of any silence, and of one whole send. */
  readonly timeoutMs: number;
}

export interface EmailChannel {
  readonly deliver: Deliver;
  close(): void;
}

/**
 * Email through nodemailer over SMTP. The Message-ID derives from the message
 * id, so a repeat after a crash carries the same one and mail systems that
 * deduplicate on it can.
 *
 * A stalled SMTP server must fail the attempt (a MessageFailed, retried), not
 * hold a delivery slot and the shutdown forever: nodemailer's own timeouts
 * bound connecting, the greeting and each silence, and the send is aborted
 * when the deliverer stops or the whole send outlasts the timeout.
 */
export const emailChannel = ({ smtpUrl, from, timeoutMs }: EmailOptions): EmailChannel => {
  const transport = smtpUrl
    ? nodemailer.createTransport({ url: smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
    : undefined;
  return {
    deliver: async ({ messageId, recipient, body, subject }, signal) => {
      if (!transport) throw new Error('SMTP_URL is not set: email cannot be sent');
      if (signal.aborted) throw signal.reason;
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        await transport.sendMail({
          from, to: recipient, subject: subject ?? 'A message from Tally', text: body, messageId: `<${messageId}@tally>`,
          signal: AbortSignal.any([signal, timeout]),
        });
      } catch (error) {
        if (timeout.aborted && !signal.aborted) throw new Error(`the SMTP server did not take the message within ${timeoutMs} ms`, { cause: error });
        throw error;
      }
    },
    close: () => transport?.close(),
  };
};
