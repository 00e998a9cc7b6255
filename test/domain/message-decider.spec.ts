import { expect } from 'chai';
import { fold } from '../../domain/decider.ts';
import { isDeliverable, messageDecider, type MessageCommand } from '../../domain/message/message-decider.ts';
import type { MessageEvent, MessageFailed, MessageRequested } from '../../domain/message/message-events.ts';
import { retryDelayMs } from '../../domain/message/retry-policy.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(messageDecider);
const now = '2026-03-01T10:00:00.000Z';
const policy = { maxAttempts: 3, baseMs: 30_000 };

const request = {
  messageId: 'm1', earningId: 'e1', campaignId: 'c1', channel: 'webhook' as const, recipient: 'ada@example.com',
  content: { template: 'You earned {{earning.amount}}' }, subject: null, webhookUrl: 'http://127.0.0.1:1/hook',
  context: { earning: { amount: 5 } },
};
const requested: MessageRequested = { type: 'MessageRequested', data: { ...request, requestedAt: now } };
const failed = (attempt: number, nextAttemptAt: string | null, at = now): MessageFailed => ({
  type: 'MessageFailed', data: { messageId: 'm1', attempt, error: 'HTTP 500', nextAttemptAt, failedAt: at },
});
const fail = (at = now): MessageCommand => ({ type: 'RecordFailed', data: { error: 'HTTP 500', policy, now: at } });
const sent = (attempt: number): MessageEvent => ({
  type: 'MessageSent',
  data: { messageId: 'm1', channel: 'webhook', recipient: 'ada@example.com', body: 'You earned 5', provider: 'template', model: null, cached: false, attempt, sentAt: now },
});

describe('message decider', () => {
  describe('RequestMessage', () => {
    it('requests a message once', () => spec.given([]).when({ type: 'RequestMessage', data: { ...request, now } }).then([requested]));
    it('refuses a webhook message without an http(s) webhookUrl', () => {
      spec.given([]).when({ type: 'RequestMessage', data: { ...request, webhookUrl: null, now } }).thenRefuses('invalid', '/webhookUrl');
      spec.given([]).when({ type: 'RequestMessage', data: { ...request, webhookUrl: 'file:///etc/passwd', now } }).thenRefuses('invalid', '/webhookUrl');
    });
    it('refuses a second request for the same id (a replay asks once)', () =>
      spec.given([requested]).when({ type: 'RequestMessage', data: { ...request, now } }).thenRefuses('conflict'));
  });

  describe('RecordSent', () => {
    it('records the first attempt as sent', () =>
      spec.given([requested]).when({ type: 'RecordSent', data: { body: 'You earned 5', provider: 'template', model: null, cached: false, now } }).then([sent(1)]));
    it('counts the failed attempts before it', () =>
      spec.given([requested, failed(1, now)]).when({ type: 'RecordSent', data: { body: 'You earned 5', provider: 'template', model: null, cached: false, now } }).then([sent(2)]));
    it('refuses a message never requested', () =>
      spec.given([]).when({ type: 'RecordSent', data: { body: 'x', provider: 'template', model: null, cached: false, now } }).thenRefuses('not_found'));
    it('refuses a message sent already (a second deliverer lost the race)', () =>
      spec.given([requested, sent(1)]).when({ type: 'RecordSent', data: { body: 'x', provider: 'template', model: null, cached: false, now } }).thenRefuses('conflict'));
  });

  describe('RecordFailed', () => {
    it('schedules the next attempt after the base delay', () =>
      spec.given([requested]).when(fail()).then([failed(1, '2026-03-01T10:00:30.000Z')]));
    it('doubles the delay after each failure', () =>
      spec.given([requested, failed(1, now)]).when(fail()).then([failed(2, '2026-03-01T10:01:00.000Z')]));
    it('abandons after the last attempt, which is recorded too', () =>
      spec.given([requested, failed(1, now), failed(2, now)]).when(fail()).then([
        failed(3, null),
        { type: 'MessageAbandoned', data: { messageId: 'm1', attempts: 3, error: 'HTTP 500', abandonedAt: now } },
      ]));
    it('refuses an abandoned message', () =>
      spec.given([requested, failed(1, now), failed(2, now), failed(3, null), { type: 'MessageAbandoned', data: { messageId: 'm1', attempts: 3, error: 'x', abandonedAt: now } }])
        .when(fail()).thenRefuses('conflict'));
  });

  describe('RecordComposed', () => {
    const composition = { body: 'Thanks, Ada', provider: 'openai', model: 'gpt-x', cached: false };
    const composed: MessageEvent = { type: 'MessageComposed', data: { messageId: 'm1', ...composition, composedAt: now } };
    it('records the body the LLM wrote, once', () => spec.given([requested]).when({ type: 'RecordComposed', data: { ...composition, now } }).then([composed]));
    it('refuses a second composition: the first body is the message', () =>
      spec.given([requested, composed]).when({ type: 'RecordComposed', data: { ...composition, body: 'Another', now } }).thenRefuses('conflict'));
    it('keeps the composed body in the state, across failed attempts', () =>
      expect(fold(messageDecider, [requested, composed, failed(1, now)])).to.deep.include({ status: 'failed', composed: composition }));
  });

  describe('RefuseMessage and Abandon', () => {
    it('requests and abandons at once what cannot be sent, with why', () =>
      spec.given([]).when({ type: 'RefuseMessage', data: { ...request, reason: 'no recipient at data.email', now } }).then([
        requested,
        { type: 'MessageAbandoned', data: { messageId: 'm1', attempts: 0, error: 'no recipient at data.email', abandonedAt: now } },
      ]));
    it('abandons a message for good, whatever attempts are left', () =>
      spec.given([requested, failed(1, now)]).when({ type: 'Abandon', data: { error: 'too large', now } }).then([
        { type: 'MessageAbandoned', data: { messageId: 'm1', attempts: 1, error: 'too large', abandonedAt: now } },
      ]));
    it('refuses to abandon a sent message', () => spec.given([requested, sent(1)]).when({ type: 'Abandon', data: { error: 'x', now } }).thenRefuses('conflict'));
  });

  describe('what is deliverable', () => {
    const state = (events: MessageEvent[]) => fold(messageDecider, events);
    it('a requested message at once', () => expect(isDeliverable(state([requested]), now)).to.equal(true));
    it('a failed one once its next attempt is due, not before', () => {
      const waiting = state([requested, failed(1, '2026-03-01T10:00:30.000Z')]);
      expect(isDeliverable(waiting, '2026-03-01T10:00:29.999Z')).to.equal(false);
      expect(isDeliverable(waiting, '2026-03-01T10:00:30.000Z')).to.equal(true);
    });
    it('never a sent or abandoned one', () => {
      expect(isDeliverable(state([requested, sent(1)]), now)).to.equal(false);
      expect(isDeliverable(state([]), now)).to.equal(false);
    });
  });

  it('backs off exponentially: base × 2^(attempt−1)', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs({ maxAttempts: 5, baseMs: 30_000 }, attempt))).to.deep.equal([30_000, 60_000, 120_000, 240_000]);
  });
});
