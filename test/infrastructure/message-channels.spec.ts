import { isPublicAddress } from '../../infrastructure/messaging/public-address.ts';
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Outgoing } from '../../infrastructure/messaging/channel.ts';
import { emailChannel } from '../../infrastructure/messaging/email-channel.ts';
import { logChannel } from '../../infrastructure/messaging/log-channel.ts';
import { webhookChannel } from '../../infrastructure/messaging/webhook-channel.ts';
import { signatureHeader, verifySignature } from '../../infrastructure/messaging/webhook-signature.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startSmtpRecorder } from '../support/smtp-recorder.ts';
import { until } from '../support/until.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const message = (overrides: Partial<Outgoing> = {}): Outgoing => ({
  messageId: '7b0a4c1e-1111-5222-8333-444455556666', channel: 'webhook', recipient: 'ada@example.com', body: 'You earned 5 EUR',
  subject: 'Spring', webhookUrl: null, secret: null, campaignId: 'c1', earningId: 'e1', ...overrides,
});
const never = new AbortController().signal;
const clock = () => new Date('2026-03-01T10:00:00Z');
/** The receivers' clock agrees with the channel's. */
const receiverNow = () => Math.floor(clock().getTime() / 1000);

describe('message channels', () => {
  describe('webhook signature', () => {
    const t = 1772359200;
    it('is t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, as a receiver computes it on its own', () => {
      const body = '{"messageId":"m1","body":"You earned 5 EUR"}';
      // Computed here with node:crypto alone, not with Tally's helper: the scheme receivers implement is pinned.
      const expected = `t=${t},v1=${createHmac('sha256', 's3cret').update(`${t}.${body}`, 'utf8').digest('hex')}`;
      expect(signatureHeader('s3cret', body, t)).to.equal(expected);
      expect(expected).to.match(/^t=1772359200,v1=[0-9a-f]{64}$/);
    });

    it('verifies only this body with this secret, within 5 minutes of the timestamp', () => {
      const header = signatureHeader('s3cret', '{"a":1}', t);
      expect(verifySignature('s3cret', '{"a":1}', header, t)).to.equal(true);
      expect(verifySignature('other', '{"a":1}', header, t)).to.equal(false);
      expect(verifySignature('s3cret', '{"a":2}', header, t)).to.equal(false);
      expect(verifySignature('s3cret', '{"a":1}', undefined, t)).to.equal(false);
      expect(verifySignature('s3cret', '{"a":1}', header, t + 300)).to.equal(true);
      // A request captured and replayed later is refused, though its signature is right.
      expect(verifySignature('s3cret', '{"a":1}', header, t + 301)).to.equal(false);
      expect(verifySignature('s3cret', '{"a":1}', header, t - 301)).to.equal(false);
    });

    it('the channel signs with its clock, and a receiver whose clock is far off refuses it', async () => {
      const stale = await startWebhookReceiver({ secret: 's', now: () => receiverNow() + 3600 });
      try {
        await webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: stale.url }), never).then(
          () => expect.fail('an old signature must be refused'),
          (error: Error) => expect(error.message).to.include('HTTP 401'),
        );
        expect(stale.received[0]).to.include({ signed: false, status: 401 });
      } finally {
        await stale.close();
      }
    });
  });

  describe('webhook', () => {
    it('refuses, unless private networks are allowed, a URL that is or resolves to a loopback, private or link-local address', async () => {
      const receiver = await startWebhookReceiver({ secret: 's', now: receiverNow });
      try {
        const guarded = webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: false });
        const port = new URL(receiver.url).port;
        for (const url of [receiver.url, `http://localhost:${port}/hook`, 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.7/hook', 'http://[::1]:9/hook', 'http://[::ffff:127.0.0.1]:9/hook']) {
          await guarded(message({ webhookUrl: url }), never).then(
            () => expect.fail(`${url} must be refused`),
            (error: Error) => expect(error.message, url).to.match(/not a public address \(WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it\)/),
          );
        }
        // Nothing was sent: the refusal comes before any connection.
        expect(receiver.received).to.have.length(0);
        await webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: receiver.url }), never);
        expect(receiver.received).to.have.length(1);
      } finally {
        await receiver.close();
      }
    });

    it('tells public addresses from the others', () => {
      for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isPublicAddress(address), address).to.equal(true);
      for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '224.0.0.1', 'not an address']) {
        expect(isPublicAddress(address), address).to.equal(false);
      }
    });

    it('POSTs the message signed, with the message id as Idempotency-Key; a 500 is a failure', async () => {
      const receiver = await startWebhookReceiver({ secret: 'campaign-secret', failFirst: 1, now: receiverNow });
      try {
        const deliver = webhookChannel({ secret: 'global', timeoutMs: 5000, clock, allowPrivateNetworks: true });
        const outgoing = message({ webhookUrl: receiver.url, secret: 'campaign-secret' });
        await deliver(outgoing, never).then(() => expect.fail('a 500 must fail'), (error: Error) => expect(error.message).to.include('HTTP 500'));
        await deliver(outgoing, never);
        expect(receiver.received).to.have.length(2);
        for (const got of receiver.received) {
          expect(got).to.include({ idempotencyKey: outgoing.messageId, signed: true });
          expect(got.body).to.deep.equal({ messageId: outgoing.messageId, recipient: 'ada@example.com', body: 'You earned 5 EUR', campaignId: 'c1', earningId: 'e1' });
        }
        expect(receiver.received.map((got) => got.status)).to.deep.equal([500, 200]);
      } finally {
        await receiver.close();
      }
    });

    it('signs with the global secret when the campaign has none', async () => {
      const receiver = await startWebhookReceiver({ secret: 'global', now: receiverNow });
      try {
        await webhookChannel({ secret: 'global', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: receiver.url }), never);
        expect(receiver.received[0]).to.include({ signed: true, status: 200 });
      } finally {
        await receiver.close();
      }
    });

    it('names only the webhook origin in its errors, never the path, query or credentials', async () => {
      const receiver = await startWebhookReceiver({ secret: 's', failFirst: 1, now: receiverNow });
      try {
        const url = `${receiver.url}?token=sekrit-token`;
        const origin = new URL(url).origin;
        await webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: url }), never)
          .then(() => expect.fail('a 500 must fail'), (error: Error) => expect(error.message).to.equal(`webhook ${origin} answered HTTP 500`));
        const withCredentials = url.replace('http://', 'http://user:hunter2@');
        await webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: withCredentials }), never).then(
          () => expect.fail('a URL with credentials must not be sent to'),
          (error: Error) => expect(error.message).to.include(origin).and.not.include('hunter2').and.not.include('sekrit'),
        );
        await webhookChannel({ secret: 's', timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: 'http://127.0.0.1:1/hook?token=sekrit-token' }), never).then(
          () => expect.fail('a refused connection must fail'),
          (error: Error) => expect(error.message).to.match(/^webhook http:\/\/127\.0\.0\.1:1: /).and.not.include('sekrit'),
        );
        expect(receiver.received).to.have.length(1);
      } finally {
        await receiver.close();
      }
    });

    it('refuses to send unsigned', async () => {
      await webhookChannel({ secret: undefined, timeoutMs: 5000, clock, allowPrivateNetworks: true })(message({ webhookUrl: 'http://127.0.0.1:1/hook' }), never)
        .then(() => expect.fail('must fail'), (error: Error) => expect(error.message).to.include('WEBHOOK_SECRET'));
    });

    it('fails when the receiver does not answer within the timeout', async () => {
      const server = createServer(() => undefined); // never answers
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        await webhookChannel({ secret: 's', timeoutMs: 200, clock, allowPrivateNetworks: true })(message({ webhookUrl: url }), never)
          .then(() => expect.fail('must time out'), (error: Error) => expect(error.message).to.include('within 200 ms'));
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });

  describe('email', () => {
    it('sends through SMTP with a Message-ID derived from the message id', async () => {
      const smtp = await startSmtpRecorder();
      const channel = emailChannel({ smtpUrl: smtp.url, from: 'Tally <tally@example.com>', timeoutMs: 5000 });
      try {
        await channel.deliver(message({ channel: 'email' }), never);
        expect(smtp.mails).to.have.length(1);
        const [mail] = smtp.mails;
        expect(mail!.to).to.deep.equal(['ada@example.com']);
        expect(mail!.from).to.equal('tally@example.com');
        expect(mail!.raw).to.include('Message-ID: <7b0a4c1e-1111-5222-8333-444455556666@tally>');
        expect(mail!.raw).to.include('Subject: Spring');
        expect(mail!.raw).to.include('You earned 5 EUR');
      } finally {
        channel.close();
        await smtp.close();
      }
    });

    it('fails the attempt when the SMTP server stalls at DATA, within EMAIL_TIMEOUT_MS', async () => {
      const smtp = await startSmtpRecorder({ stallAtData: true });
      const channel = emailChannel({ smtpUrl: smtp.url, from: 'tally@example.com', timeoutMs: 300 });
      try {
        const started = Date.now();
        await channel.deliver(message({ channel: 'email' }), never).then(() => expect.fail('a stalled server must fail the attempt'), (error: Error) => expect(error.message).to.include('within 300 ms'));
        expect(Date.now() - started).to.be.below(3000);
        expect(smtp.stalled()).to.equal(1);
      } finally {
        channel.close();
        await smtp.close();
      }
    });

    it('gives up a send stalled at DATA when the deliverer stops (the signal aborts)', async () => {
      const smtp = await startSmtpRecorder({ stallAtData: true });
      const channel = emailChannel({ smtpUrl: smtp.url, from: 'tally@example.com', timeoutMs: 60_000 });
      const stopping = new AbortController();
      try {
        const sending = channel.deliver(message({ channel: 'email' }), stopping.signal);
        const outcome = sending.then(() => 'sent', () => 'aborted');
        await until('the server holds the data', () => smtp.stalled() === 1);
        const started = Date.now();
        stopping.abort(new Error('stopping'));
        expect(await outcome).to.equal('aborted');
        expect(Date.now() - started).to.be.below(1000);
      } finally {
        channel.close();
        await smtp.close();
      }
    });

    it('fails, saying so, without SMTP_URL', async () => {
      await emailChannel({ smtpUrl: undefined, from: 'x@y', timeoutMs: 5000 }).deliver(message({ channel: 'email' }), never)
        .then(() => expect.fail('must fail'), (error: Error) => expect(error.message).to.include('SMTP_URL'));
    });
  });

  it('log: one log line with the message', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (line: Buffer, _encoding, done) => void (lines.push(JSON.parse(line.toString()) as Record<string, unknown>), done()) });
    await logChannel(pino({ level: 'info' }, sink))(message({ channel: 'log' }), never);
    expect(lines.some((line) => line.msg === 'message' && line.body === 'You earned 5 EUR' && line.recipient === 'ada@example.com')).to.equal(true);
  });
});
