import { randomUUID } from 'node:crypto';
import { eventFilterOf } from './event-filter.ts';
import { compareToPosition, type InMemoryLog, type StoredEvent } from './in-memory-log.ts';
import { caughtUpResponse, checkpointResponse, confirmationResponse, eventResponse } from './read-responses.ts';
import { grpc, type Grpc, type StreamsPb } from './stubs.ts';

/** A live `$all` subscription call, which the server can end or break. */
export interface OpenSubscription {
  /** Completes the call with status OK. */
  end(): void;
  /** Fails the call with status UNAVAILABLE. */
  fail(): void;
}

/**
 * A `$all` subscription (`Streams.Read` with the `subscription` option):
 * `confirmation`, then the catch-up (events after the start position, which
 * is exclusive), then `caught_up`, then each event as it is appended.
 *
 * With a filter, as EventStoreDB 24.10 does it (its
 * Enumerator.AllSubscriptionFiltered and SubscriptionsService):
 * - catch-up reads pages of `max` (the search window) events, every event
 *   considered whether it matches or not. The checkpoint position is the last
 *   event sent, or the first event of the page when that lies further: a
 *   position of a sent event or of one filtered out between them. A checkpoint
 *   is sent after a page once `checkpointIntervalMultiplier × max` events were
 *   considered since the last, and always when catch-up reaches the end of the
 *   log, before `caught_up`;
 * - live, every event counts (matching or not), and after each
 *   `checkpointIntervalMultiplier × max` of them a checkpoint at the last one.
 * The log is in memory and JavaScript runs one thing at a time, so catch-up
 * and going live leave no gap.
 */
export const subscribeToAll = (
  call: Grpc.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>,
  options: StreamsPb.ReadReq.Options,
  log: InMemoryLog,
  open: Set<OpenSubscription>,
): void => {
  const all = options.getAll();
  const filterOptions = options.getFilter();
  const filter = filterOptions ? eventFilterOf(filterOptions) : undefined;
  const from = all?.getPosition();
  const fromEnd = all?.hasEnd() ?? false;
  call.write(confirmationResponse(randomUUID()));

  let stopListening: () => void;
  if (!filter) {
    const catchUp = fromEnd ? [] : from ? log.events.filter((event) => compareToPosition(event, toLogPosition(from)) > 0) : log.events;
    for (const event of catchUp) call.write(eventResponse(event));
    call.write(caughtUpResponse());
    stopListening = log.onAppended((event) => call.write(eventResponse(event)));
  } else {
    /** The last event or checkpoint position sent on (none yet: undefined). */
    let checkpoint: bigint | undefined = fromEnd ? log.events.at(-1)?.position : from ? toLogPosition(from).commit : undefined;
    const send = (event: StoredEvent): void => {
      call.write(eventResponse(event));
      checkpoint = event.position;
    };
    if (!fromEnd) {
      // Pages start at the checkpoint's own position, the event there included (and skipped).
      let index = checkpoint === undefined ? 0 : log.events.findIndex((event) => event.position >= checkpoint!);
      if (index < 0) index = log.events.length;
      let considered = 0;
      for (;;) {
        const page = log.events.slice(index, index + filter.maxSearchWindow);
        index += page.length;
        for (const event of page) if ((checkpoint === undefined || event.position > checkpoint) && filter.matches(event)) send(event);
        const pageStart = page[0]?.position;
        if (pageStart !== undefined && (checkpoint === undefined || checkpoint < pageStart)) checkpoint = pageStart;
        considered += page.length;
        if (index >= log.events.length) {
          // The end of the log: a checkpoint before going live, at the start of the log if nothing came before.
          call.write(checkpointResponse(checkpoint ?? 0n));
          break;
        }
        if (considered >= filter.checkpointInterval) {
          considered %= filter.checkpointInterval;
          call.write(checkpointResponse(checkpoint!));
        }
      }
    }
    call.write(caughtUpResponse());
    let considered = 0;
    stopListening = log.onAppended((event) => {
      if (filter.matches(event)) send(event);
      if (++considered < filter.checkpointInterval) return;
      considered = 0;
      call.write(checkpointResponse(event.position));
      checkpoint = event.position;
    });
  }

  const subscription: OpenSubscription = {
    end: () => {
      close();
      call.end();
    },
    fail: () => {
      close();
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'subscription broken by the EventStoreDB test server' });
    },
  };
  const close = () => {
    stopListening();
    open.delete(subscription);
  };
  open.add(subscription);
  call.on('cancelled', close);
};

export const toLogPosition = (position: StreamsPb.ReadReq.Options.Position) => ({
  commit: BigInt(position.getCommitPosition()),
  prepare: BigInt(position.getPreparePosition()),
});
