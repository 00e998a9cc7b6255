import { expect } from 'chai';
import { startMessageDelivery, MESSAGE_DELIVERY_SUBSCRIBER, type MessageDelivery } from '../../commands/reactors/message-delivery.ts';
import { messageStream, type MessageRequested } from '../../domain/message/message-events.ts';
import { errorText } from '../../infrastructure/error-text.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import type { Channels, Deliver } from '../../infrastructure/messaging/channel.ts';
import type { StatusBoard, SubscriberState } from '../../infrastructure/postgres/subscriber-status.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';
import { until } from '../support/until.ts';

/** A status board that keeps the last state each subscriber reported, as the real one writes it to /health. */
const recordingBoard = () => {
  const states = new Map<string, { state: SubscriberState; error: string | null }>();
  const board: StatusBoard = {
    instance: 'test',
    track(subscriber, _position, initial = 'catching-up') {
      states.set(subscriber, { state: initial, error: null });
      let caughtUp = false;
      return {
        progressed: () => void (caughtUp && states.set(subscriber, { state: 'running', error: null })),
        failing: (error) => void states.set(subscriber, { state: 'failing', error: errorText(error) }),
        caughtUpAt: () => {
          caughtUp = true;
          states.set(subscriber, { state: 'running', error: null });
        },
        untrack: () => void states.delete(subscriber),
      };
    },
    close: async () => undefined,
  };
  return { board, state: () => states.get(MESSAGE_DELIVERY_SUBSCRIBER) };
};

/** The deliverer on /health (issue 10): a failed delivery is a fact in the log, not a failing deliverer; its own machinery failing is. */
describe('message delivery on /health', function () {
  this.timeout(30_000);
  let harness: Awaited<ReturnType<typeof createPostgresStoreForTest>>;
  let delivery: MessageDelivery | undefined;
  let receiverDown = false;
  let storeUnreadable = false;
  const deliver: Deliver = async () => {
    if (receiverDown) throw new Error('receiver down');
  };
  const channels: Channels = { log: deliver, webhook: deliver, email: deliver };
  /** The real store, whose stream reads fail while `storeUnreadable`. */
  const flaky = (store: EventStore): EventStore => ({
    ...store,
    readStream: (streamId, options) => {
      if (storeUnreadable) throw new Error('store unreadable');
      return store.readStream(streamId, options);
    },
  });

  beforeEach(async () => {
    harness = await createPostgresStoreForTest();
    receiverDown = false;
    storeUnreadable = false;
  });
  afterEach(async () => {
    await delivery?.stop();
    delivery = undefined;
    await harness.stop();
  });

  const request = async (messageId: string): Promise<void> => {
    const requested: MessageRequested = {
      type: 'MessageRequested',
      data: {
        messageId, earningId: null, campaignId: null, channel: 'log', recipient: 'C-1', content: { body: 'Hi' }, subject: null, webhookUrl: null,
        context: {}, requestedAt: new Date().toISOString(),
      },
    };
    await harness.store.appendToStream(messageStream(messageId), [toEventToAppend(requested)], { expectedRevision: 'no_stream' });
  };
  const eventCount = async (messageId: string): Promise<number> => {
    const types: string[] = [];
    for await (const recorded of harness.store.readStream(messageStream(messageId))) types.push(recorded.type);
    return types.length;
  };
  const start = async (board: StatusBoard) => {
    delivery = await startMessageDelivery({
      store: flaky(harness.store), clock: () => new Date(), logger: silentLogger, channels, llm: undefined, policy: { maxAttempts: 5, baseMs: 60_000 }, cron: null, board,
    });
    return delivery;
  };

  it('stays running when a delivery fails: that is a MessageFailed in the log', async () => {
    const { board, state } = recordingBoard();
    const running = await start(board);
    expect(state()).to.deep.equal({ state: 'running', error: null });
    receiverDown = true;
    await request('m1');
    await until('the failed attempt is recorded', async () => {
      running.tick();
      await running.idle();
      return (await eventCount('m1')) === 2;
    });
    expect(state()?.state).to.equal('running');
  });

  it('shows failing while its own machinery fails, and running again once it works', async () => {
    const { board, state } = recordingBoard();
    const running = await start(board);
    storeUnreadable = true;
    await request('m1');
    await until('the deliverer shows failing', async () => {
      running.tick();
      await running.idle();
      return state()?.state === 'failing';
    });
    expect(state()?.error).to.equal('store unreadable');
    storeUnreadable = false;
    await until('the message is sent and the deliverer runs again', async () => {
      running.tick();
      await running.idle();
      return (await eventCount('m1')) === 2 && state()?.state === 'running';
    });
  });
});
