import { subscribeToAll, toLogPosition, type OpenSubscription } from './all-subscription.ts';
import { eventFilterOf } from './event-filter.ts';
import { compareToPosition, type InMemoryLog, type StoredEvent } from './in-memory-log.ts';
import { eventResponse, streamNotFoundResponse } from './read-responses.ts';
import { grpc, streamNameOf, streamsPb, type Grpc, type StreamsPb } from './stubs.ts';

/**
 * `Streams.Read` (server streaming): reads of one stream or of `$all`, either
 * direction, from start / end / a revision or position, at most `count`
 * events; and `$all` subscriptions (see all-subscription.ts). Stream
 * subscriptions are not implemented.
 */
export const readHandler =
  (log: InMemoryLog, openSubscriptions: Set<OpenSubscription>): Grpc.handleServerStreamingCall<StreamsPb.ReadReq, StreamsPb.ReadResp> =>
  (call) => {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'ReadReq without options' });
      return;
    }
    if (options.hasSubscription()) {
      if (options.hasAll()) subscribeToAll(call, options, log, openSubscriptions);
      else call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the EventStoreDB test server has no stream subscriptions' });
      return;
    }
    const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const count = BigInt(options.getCount());
    const found = options.hasAll() ? readAll(log, options, backwards) : readStream(log, options, backwards);
    if (found === 'stream not found') {
      call.write(streamNotFoundResponse(streamNameOf(options.getStream()?.getStreamIdentifier())));
    } else {
      const filterOptions = options.getFilter();
      const filter = filterOptions ? eventFilterOf(filterOptions) : undefined;
      let sent = 0n;
      for (const event of found) {
        if (sent >= count) break;
        if (filter && !filter.matches(event)) continue;
        call.write(eventResponse(event));
        sent++;
      }
    }
    call.end();
  };

/** Forwards from a revision includes it, backwards from a revision includes it too. */
const readStream = (log: InMemoryLog, options: StreamsPb.ReadReq.Options, backwards: boolean): readonly StoredEvent[] | 'stream not found' => {
  const streamOptions = options.getStream();
  const events = log.stream(streamNameOf(streamOptions?.getStreamIdentifier()));
  if (!events) return 'stream not found';
  const last = BigInt(events.length - 1);
  const from = streamOptions?.hasRevision() ? BigInt(streamOptions.getRevision()) : streamOptions?.hasEnd() ? (backwards ? last : last + 1n) : 0n;
  return backwards ? events.filter((event) => event.revision <= from).reverse() : events.filter((event) => event.revision >= from);
};

/** As EventStoreDB: forwards from a position includes the event at it, backwards from a position excludes it. */
const readAll = (log: InMemoryLog, options: StreamsPb.ReadReq.Options, backwards: boolean): readonly StoredEvent[] => {
  const allOptions = options.getAll();
  const position = allOptions?.getPosition();
  if (position) {
    const from = toLogPosition(position);
    return backwards
      ? log.events.filter((event) => compareToPosition(event, from) < 0).reverse()
      : log.events.filter((event) => compareToPosition(event, from) >= 0);
  }
  const fromEnd = allOptions?.hasEnd() ?? false;
  if (backwards) return fromEnd ? [...log.events].reverse() : [];
  return fromEnd ? [] : log.events;
};
