import { hasCredentials, urlOrigin } from '../../domain/message/notifications.ts';
import type { Deliver } from './channel.ts';
import { privateDestination } from './public-address.ts';
import { signatureHeader } from './webhook-signature.ts';

export interface WebhookOptions {
  /** For campaigns without their own secret. */
  readonly secret: string | undefined;
  readonly timeoutMs: number;
  readonly clock: () => Date;
  /** Off: a URL whose host is or resolves to a loopback, private or link-local address is refused (see public-address.ts). */
  readonly allowPrivateNetworks: boolean;
}

/**
 * POSTs the message as JSON, signed, with the message id as `Idempotency-Key`:
 * delivery is at least once (a crash between the POST and MessageSent repeats
 * it), so the receiver drops what it has seen by that key. Anything but a 2xx
 * within the timeout is a failure.
 */
export const webhookChannel =
  ({ secret: globalSecret, timeoutMs, clock, allowPrivateNetworks }: WebhookOptions): Deliver =>
  async ({ messageId, recipient, body, campaignId, earningId, webhookUrl, secret }, signal) => {
    if (!webhookUrl) throw new Error('the message has no webhookUrl');
    // Refused at the API since; one recorded before is not sent with its password, nor named in the error.
    if (hasCredentials(webhookUrl)) throw new Error(`webhook ${urlOrigin(webhookUrl)}: the URL carries credentials, which Tally does not send`);
    const refused = allowPrivateNetworks ? undefined : await privateDestination(webhookUrl).catch((error: unknown) => `${new URL(webhookUrl).hostname} could not be resolved: ${error instanceof Error ? error.message : String(error)}`);
    if (refused) throw new Error(`webhook ${urlOrigin(webhookUrl)}: ${refused}`);
    const key = secret ?? globalSecret;
    if (!key) throw new Error('no webhook secret: set WEBHOOK_SECRET or the campaign notifications secret');
    const payload = JSON.stringify({ messageId, recipient, body, campaignId, earningId });
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'tally-signature': signatureHeader(key, payload, Math.floor(clock().getTime() / 1000)),
          'idempotency-key': messageId,
        },
        body: payload,
        signal: AbortSignal.any([signal, timeout]),
        redirect: 'manual',
      });
      // Read to the end, so the connection is free, and the answer's time counts against the timeout too.
      await response.arrayBuffer();
    } catch (error) {
      if (timeout.aborted && !signal.aborted) throw new Error(`webhook ${urlOrigin(webhookUrl)} did not answer within ${timeoutMs} ms`, { cause: error });
      if (signal.aborted) throw error;
      // fetch's own errors say why (refused, reset), never the URL; the origin is added so the attempt says where.
      throw new Error(`webhook ${urlOrigin(webhookUrl)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (response.status < 200 || response.status > 299) throw new Error(`webhook ${urlOrigin(webhookUrl)} answered HTTP ${response.status}`);
  };
