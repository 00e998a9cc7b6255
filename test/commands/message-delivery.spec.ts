import { expect } from 'chai';
import { startMessageDelivery, type MessageDelivery } from '../../commands/reactors/message-delivery.ts';
import { messageStream, type MessageEvent, type MessageRequested } from '../../domain/message/message-events.ts';
import type { Channel } from '../../domain/message/notifications.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AllProvidersFailedError } from '../../infrastructure/llm/all-providers-failed-error.ts';
import type { GenerateRequest, Generated, LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';
import type { Channels, Deliver, Outgoing } from '../../infrastructure/messaging/channel.ts';
import { AppendTooLargeError, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import type { JsonObject } from '../../domain/json.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { until } from '../support/until.ts';

/** An LLM gateway double: deterministic text from the prompt, no provider. The real gateway still needs an end-to-end test here. */
const fakeGateway = (): LlmGateway & { requests: GenerateRequest[] } => {
  const requests: GenerateRequest[] = [];
  return {
    requests,
    generate: async (request): Promise<Generated> => {
      requests.push(request);
      return { text: `Dear customer (${request.prompt.length} chars asked)`, model: 'fake-1', provider: 'offline', tokenCount: 3, inputTokens: 2, outputTokens: 1, cached: requests.length > 1 };
    },
    providers: async () => [],
    cacheHealth: () => ({ status: 'ok', kind: 'memory' }),
    clearCache: async () => 0,
    close: async () => undefined,
  };
};

describe('message delivery reactor', function () {
  this.timeout(30_000);
  let harness: Awaited<ReturnType<typeof createPostgresStoreForTest>>;
  let now: Date;
  const clock = () => now;
  const delivered: Outgoing[] = [];
  /** Every attempt, failed ones too. */
  const attempted: Outgoing[] = [];
  /** Each channel fails while `failures` is above zero. */
  let failures = 0;
  const recording: Deliver = async (message) => {
    attempted.push(message);
    if (failures > 0) {
      failures--;
      throw new Error('receiver down');
    }
    delivered.push(message);
  };
  const channels: Channels = { log: recording, webhook: recording, email: recording };
  const running: MessageDelivery[] = [];
  const start = async (llm?: LlmGateway, maxAttempts = 3, { store = harness.store, maxBodyBytes }: { store?: EventStore; maxBodyBytes?: number } = {}): Promise<MessageDelivery> => {
    const delivery = await startMessageDelivery({ store, clock, logger: silentLogger, channels, llm, policy: { maxAttempts, baseMs: 30_000 }, maxBodyBytes, cron: null });
    running.push(delivery);
    return delivery;
  };

  beforeEach(async () => {
    harness = await createPostgresStoreForTest();
    now = new Date('2026-03-01T10:00:00.000Z');
    delivered.length = 0;
    attempted.length = 0;
    failures = 0;
  });
  afterEach(async () => {
    for (const delivery of running.splice(0)) await delivery.stop();
    await harness.stop();
  });

  const request = async (messageId: string, content: MessageRequested['data']['content'], channel: Channel = 'webhook', context: JsonObject = { earning: { amount: 5, currency: 'EUR' }, event: { data: { name: 'Ada' } } }) => {
    const requested: MessageRequested = {
      type: 'MessageRequested',
      data: {
        messageId, earningId: 'e1', campaignId: null, channel, recipient: 'ada@example.com', content, subject: 'Spring', webhookUrl: 'http://127.0.0.1:1/hook',
        context, requestedAt: now.toISOString(),
      },
    };
    await harness.store.appendToStream(messageStream(messageId), [toEventToAppend(requested)], { expectedRevision: 'no_stream' });
  };
  const stream = async (messageId: string): Promise<MessageEvent[]> => {
    const events: MessageEvent[] = [];
    for await (const recorded of harness.store.readStream(messageStream(messageId))) events.push(asDomainEvent<MessageEvent>(recorded));
    return events;
  };
  const typesOf = async (messageId: string) => (await stream(messageId)).map((event) => event.type);
  /** Ticks (as the cron job would) until the stream has `count` events. */
  const settle = (delivery: MessageDelivery, messageId: string, count: number) =>
    until(`message ${messageId} has ${count} events`, async () => {
      delivery.tick();
      await delivery.idle();
      return (await stream(messageId)).length >= count;
    });

  it('composes a template, delivers it once and records MessageSent', async () => {
    const delivery = await start();
    await request('m1', { template: 'Hi {{event.data.name}}, you earned {{earning.amount}} {{earning.currency}}' });
    await settle(delivery, 'm1', 2);
    expect(delivered.map((message) => message.body)).to.deep.equal(['Hi Ada, you earned 5 EUR']);
    expect(delivered[0]).to.include({ messageId: 'm1', recipient: 'ada@example.com', subject: 'Spring', webhookUrl: 'http://127.0.0.1:1/hook' });
    const [, sent] = await stream('m1');
    expect(sent).to.deep.equal({
      type: 'MessageSent',
      data: { messageId: 'm1', channel: 'webhook', recipient: 'ada@example.com', body: 'Hi Ada, you earned 5 EUR', provider: 'template', model: null, cached: false, attempt: 1, sentAt: now.toISOString() },
    });
    delivery.tick();
    await delivery.idle();
    expect(delivered).to.have.length(1);
  });

  it('retries a failed delivery only once it is due, with exponential backoff, then records the attempt that went through', async () => {
    const delivery = await start();
    failures = 2;
    await request('m2', { body: 'hello' });
    await settle(delivery, 'm2', 2);
    const [, first] = await stream('m2');
    expect(first).to.deep.include({ type: 'MessageFailed' });
    expect(first!.data).to.include({ attempt: 1, error: 'receiver down', nextAttemptAt: '2026-03-01T10:00:30.000Z' });

    now = new Date('2026-03-01T10:00:29.000Z'); // not due yet
    delivery.tick();
    await delivery.idle();
    expect(await typesOf('m2')).to.have.length(2);

    now = new Date('2026-03-01T10:00:30.000Z');
    await settle(delivery, 'm2', 3);
    expect((await stream('m2'))[2]!.data).to.include({ attempt: 2, nextAttemptAt: '2026-03-01T10:01:30.000Z' });

    now = new Date('2026-03-01T10:01:30.000Z');
    await settle(delivery, 'm2', 4);
    expect((await stream('m2'))[3]).to.deep.include({ type: 'MessageSent' });
    expect((await stream('m2'))[3]!.data).to.include({ attempt: 3, provider: 'explicit' });
    expect(delivered.map((message) => message.body)).to.deep.equal(['hello']);
  });

  it('abandons a message after the last attempt', async () => {
    const delivery = await start(undefined, 2);
    failures = 10;
    await request('m3', { body: 'hello' });
    await settle(delivery, 'm3', 2);
    now = new Date('2026-03-01T10:01:00.000Z');
    await settle(delivery, 'm3', 4);
    expect(await typesOf('m3')).to.deep.equal(['MessageRequested', 'MessageFailed', 'MessageFailed', 'MessageAbandoned']);
    expect((await stream('m3'))[3]!.data).to.include({ attempts: 2, error: 'receiver down' });
    now = new Date('2026-03-02T10:00:00.000Z');
    delivery.tick();
    await delivery.idle();
    expect(await typesOf('m3')).to.have.length(4);
  });

  it('finds due retries in the log after a restart', async () => {
    const first = await start();
    failures = 1;
    await request('m4', { body: 'hello' });
    await settle(first, 'm4', 2);
    await first.stop();
    now = new Date('2026-03-01T10:05:00.000Z');
    const second = await start();
    await settle(second, 'm4', 3);
    expect(await typesOf('m4')).to.deep.equal(['MessageRequested', 'MessageFailed', 'MessageSent']);
    expect(delivered).to.have.length(1);
  });

  it('composes a prompt through the LLM gateway, with the context, and records provider, model and cache', async () => {
    const llm = fakeGateway();
    const delivery = await start(llm);
    await request('m5', { prompt: 'Thank the customer for their purchase' });
    await settle(delivery, 'm5', 3);
    expect(llm.requests).to.have.length(1);
    expect(llm.requests[0]!.prompt).to.include('Thank the customer for their purchase').and.include('"name":"Ada"');
    expect(await typesOf('m5')).to.deep.equal(['MessageRequested', 'MessageComposed', 'MessageSent']);
    expect((await stream('m5'))[1]!.data).to.include({ body: delivered[0]!.body, provider: 'offline', model: 'fake-1', cached: false });
    expect((await stream('m5'))[2]!.data).to.include({ body: delivered[0]!.body, provider: 'offline', model: 'fake-1', cached: false, attempt: 1 });
    expect(delivered[0]!.body).to.match(/^Dear customer/);
  });

  it('fails (and retries) a prompt when no gateway is configured', async () => {
    const delivery = await start();
    await request('m6', { prompt: 'Thank them' });
    await settle(delivery, 'm6', 2);
    expect((await stream('m6'))[1]!.data).to.include({ attempt: 1, error: 'no LLM gateway is configured: a prompt cannot be composed' });
  });

  /** A model that never writes the same body twice, as real ones do. */
  const fickleGateway = (length = 0): LlmGateway & { calls: () => number } => {
    let calls = 0;
    return {
      calls: () => calls,
      generate: async (): Promise<Generated> => {
        calls++;
        return { text: `Thanks! (draft ${calls})${'!'.repeat(length)}`, model: 'fickle-1', provider: 'openai', tokenCount: 3, inputTokens: 2, outputTokens: 1, cached: false };
      },
      providers: async () => [],
      cacheHealth: () => ({ status: 'ok', kind: 'memory' }),
      clearCache: async () => 0,
      close: async () => undefined,
    };
  };

  it('records a failed attempt when every provider fails during composition, and composes and sends once they answer again', async () => {
    let down = true;
    const llm = { ...fickleGateway(), generate: async (): Promise<Generated> => {
      if (down) throw new AllProvidersFailedError([{ provider: 'openai', error: 'server-error (HTTP 500)' }, { provider: 'offline', error: 'not configured' }], true);
      return { text: 'Thanks, at last', model: 'fickle-1', provider: 'openai', tokenCount: 3, inputTokens: 2, outputTokens: 1, cached: false };
    } };
    const delivery = await start(llm, 5);
    await request('m10', { prompt: 'Thank them' });
    await settle(delivery, 'm10', 2);
    const failed = (await stream('m10'))[1]!;
    expect(failed.type).to.equal('MessageFailed');
    expect(failed.data).to.include({ attempt: 1 });
    expect(String((failed.data as { error: string }).error)).to.include('every provider failed').and.include('openai: server-error (HTTP 500)');
    expect(attempted).to.deep.equal([]); // nothing was sent without a body
    down = false;
    now = new Date('2026-03-01T10:00:30.000Z');
    await settle(delivery, 'm10', 4);
    expect(await typesOf('m10')).to.deep.equal(['MessageRequested', 'MessageFailed', 'MessageComposed', 'MessageSent']);
    expect(delivered.map((message) => message.body)).to.deep.equal(['Thanks, at last']);
  });

  it('composes an LLM body once: two failed attempts and the one that goes through send the same body', async () => {
    const llm = fickleGateway();
    const delivery = await start(llm, 5);
    failures = 2;
    await request('m7', { prompt: 'Thank them' });
    await settle(delivery, 'm7', 3);
    now = new Date('2026-03-01T10:00:30.000Z');
    await settle(delivery, 'm7', 4);
    now = new Date('2026-03-01T10:01:30.000Z');
    await settle(delivery, 'm7', 5);
    expect(await typesOf('m7')).to.deep.equal(['MessageRequested', 'MessageComposed', 'MessageFailed', 'MessageFailed', 'MessageSent']);
    expect(attempted.map((message) => message.body)).to.deep.equal(['Thanks! (draft 1)', 'Thanks! (draft 1)', 'Thanks! (draft 1)']);
    expect((await stream('m7'))[4]!.data).to.include({ body: 'Thanks! (draft 1)', provider: 'openai', model: 'fickle-1', cached: false, attempt: 3 });
    expect(llm.calls()).to.equal(1);
  });

  it('sends the recorded LLM body after a restart, without asking the model again', async () => {
    const llm = fickleGateway();
    const first = await start(llm, 5);
    failures = 1;
    await request('m8', { prompt: 'Thank them' });
    await settle(first, 'm8', 3);
    await first.stop();
    now = new Date('2026-03-01T10:05:00.000Z');
    const second = await start(llm, 5);
    await settle(second, 'm8', 4);
    expect(await typesOf('m8')).to.deep.equal(['MessageRequested', 'MessageComposed', 'MessageFailed', 'MessageSent']);
    expect(attempted.map((message) => message.body)).to.deep.equal(['Thanks! (draft 1)', 'Thanks! (draft 1)']);
    expect(llm.calls()).to.equal(1);
  });

  /** The store as EventStoreDB with a small MaxAppendSize: an append over `limit` is refused whole, and nothing of it written. */
  const limitedTo = (limit: number): EventStore =>
    new Proxy(harness.store, {
      get: (target, property, receiver) =>
        property === 'appendToStream'
          ? async (...args: Parameters<EventStore['appendToStream']>) => {
              if (JSON.stringify(args[1]).length > limit) throw new AppendTooLargeError(args[0], limit);
              return target.appendToStream(...args);
            }
          : Reflect.get(target, property, receiver),
    });

  it('abandons, unsent, a message whose composed body is over MESSAGE_MAX_BODY_BYTES, and never retries it', async () => {
    const delivery = await start(undefined, 5, { maxBodyBytes: 100 });
    await request('m9', { body: 'x'.repeat(101) });
    await settle(delivery, 'm9', 2);
    const events = await stream('m9');
    expect(events.map((event) => event.type)).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
    expect(events[1]!.data).to.include({ attempts: 0, error: 'the composed body is 101 bytes, over the 100 bytes a message may have (MESSAGE_MAX_BODY_BYTES)' });
    now = new Date('2026-03-02T10:00:00.000Z');
    delivery.tick();
    await delivery.idle();
    expect(attempted).to.have.length(0);
    expect(await typesOf('m9')).to.have.length(2);
  });

  it('abandons, unsent, an LLM body whose MessageComposed the store refuses for its size', async () => {
    const delivery = await start(fickleGateway(3000), 5, { store: limitedTo(2048) });
    await request('m10', { prompt: 'Thank them' });
    await settle(delivery, 'm10', 2);
    const events = await stream('m10');
    expect(events.map((event) => event.type)).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
    expect(events[1]!.data).to.include({ error: 'the composed body cannot be recorded: MessageComposed is larger than the event store takes (at most 2048 bytes)' });
    expect(attempted).to.have.length(0);
  });

  it('ends a delivered message whose MessageSent the store refuses for its size with a small MessageAbandoned, instead of retrying the append for ever', async () => {
    const delivery = await start(undefined, 5, { store: limitedTo(2048) });
    await request('m11', { template: '{{a}}{{a}}{{a}}{{a}}' }, 'webhook', { a: 'y'.repeat(600) });
    await settle(delivery, 'm11', 2);
    const events = await stream('m11');
    expect(events.map((event) => event.type)).to.deep.equal(['MessageRequested', 'MessageAbandoned']);
    expect(events[1]!.data).to.include({ attempts: 0, error: 'delivered, but MessageSent is larger than the event store takes (at most 2048 bytes)' });
    expect(delivered).to.have.length(1);
    now = new Date('2026-03-02T10:00:00.000Z');
    delivery.tick();
    await delivery.idle();
    expect(delivered).to.have.length(1);
  });
});
