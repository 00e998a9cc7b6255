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
 * is exclusive), then `caught_up`, then each event as it is appended. With a
 * filter, every `checkpointIntervalMultiplier × max` filtered-out events give
 * a `checkpoint` at the last of them. The log is in memory and JavaScript
 * runs one thing at a time, so catch-up and going live leave no gap.
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
  let filteredOutSinceCheckpoint = 0;
  const send = (event: StoredEvent) => {
    if (!filter || filter.matches(event)) {
      call.write(eventResponse(event));
      return;
    }
    if (++filteredOutSinceCheckpoint < filter.checkpointInterval) return;
    filteredOutSinceCheckpoint = 0;
    call.write(checkpointResponse(event.position));
  };

  call.write(confirmationResponse(randomUUID()));
  const from = all?.getPosition();
  const catchUp = all?.hasEnd() ? [] : from ? log.events.filter((event) => compareToPosition(event, toLogPosition(from)) > 0) : log.events;
  for (const event of catchUp) send(event);
  call.write(caughtUpResponse());
  const stopListening = log.onAppended(send);

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
