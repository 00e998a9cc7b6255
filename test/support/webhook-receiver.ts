import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../infrastructure/messaging/webhook-signature.ts';

export interface ReceivedWebhook {
  readonly idempotencyKey: string | undefined;
  readonly signed: boolean;
  readonly body: Record<string, unknown>;
  /** The status it was answered with (null: held, never answered). */
  status: number | null;
}

export interface ReceiverOptions {
  readonly secret: string;
  /** Answer 500 to this many requests first. */
  readonly failFirst?: number;
  /** The receiver's clock, in unix seconds, against which a signature's timestamp must be within 5 minutes; the real time by default. */
  readonly now?: () => number;
  /** Hold the answer to the request of this index (0-based) until `release()`: the crash window between delivery and MessageSent. */
  readonly holdRequest?: number;
}

/** A webhook receiver on a free local port: records what it gets, checks signatures (and their age, as a real receiver must), fails on demand. */
export const startWebhookReceiver = async ({ secret, failFirst = 0, holdRequest, now = () => Math.floor(Date.now() / 1000) }: ReceiverOptions) => {
  const received: ReceivedWebhook[] = [];
  let releaseHeld: (() => void) | undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const text = await readBody(req);
      const index = received.length;
      const entry: ReceivedWebhook = {
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        signed: verifySignature(secret, text, req.headers['tally-signature'] as string | undefined, now()),
        body: JSON.parse(text) as Record<string, unknown>,
        status: null,
      };
      received.push(entry);
      if (index === holdRequest) await held;
      entry.status = !entry.signed ? 401 : index < failFirst ? 500 : 200;
      res.writeHead(entry.status, { 'content-type': 'application/json' }).end('{}');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    release: () => releaseHeld?.(),
    close: async () => {
      releaseHeld?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
