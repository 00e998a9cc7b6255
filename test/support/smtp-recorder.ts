import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface RecordedMail {
  readonly from: string | undefined;
  readonly to: readonly string[];
  /** The raw message: headers and body as sent. */
  readonly raw: string;
}

/**
 * A local SMTP server (the smtp-server package, no auth, no TLS) that records
 * every message; with `stallAtData` it takes the message's data and never
 * answers it, as a wedged mail server does.
 */
export const startSmtpRecorder = async ({ stallAtData = false }: { stallAtData?: boolean } = {}) => {
  const mails: RecordedMail[] = [];
  let stalled = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stallAtData) return void stalled++;
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** Messages whose data arrived and was never answered. */
    stalled: () => stalled,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
