import { randomUUID } from 'node:crypto';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AppendExpectedRevision,
  type Filter,
  type ResolvedEvent,
  type AllStreamResolvedEvent,
} from '@eventstore/db-client';
import {
  AppendTooLargeError,
  ConcurrencyError,
  matchesFilter,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type RecordedEvent,
  type StreamAppendResult,
  type SubscriptionFilter,
} from '../event-store.ts';
import { decodeEsdbPosition, encodeEsdbPosition } from './esdb-position.ts';
import { resubscribingSubscription } from './resubscribing-subscription.ts';

const toAppendExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'no_stream' ? NO_STREAM : expected === 'stream_exists' ? STREAM_EXISTS : expected === 'any' ? ANY : expected;

const parseJson = (value: unknown): JsonObject => {
  if (value instanceof Uint8Array) return value.length === 0 ? {} : (JSON.parse(Buffer.from(value).toString('utf8')) as JsonObject);
  return (value ?? {}) as JsonObject;
};

/** Null for what Tally does not show: system events ($-types) and link events without their target. */
const toRecorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null => {
  const event = resolved.event;
  if (!event || event.type.startsWith('$')) return null;
  const commit = event.position?.commit ?? resolved.commitPosition;
  if (commit === undefined) throw new Error(`EventStoreDB gave no position for event ${event.id}; Tally needs a server ≥ 22.6`);
  return {
    id: event.id,
    type: event.type,
    data: parseJson(event.data),
    metadata: parseJson(event.metadata) as EventMetadata,
    streamId: event.streamId,
    revision: event.revision,
    position: encodeEsdbPosition({ commit }),
    recordedAt: event.created,
  };
};

const PAGE_SIZE = 1000;
/** Events read back from the end at a time when looking for the head: system events come a few at a time. */
const HEAD_PAGE_SIZE = 32;
/** Appends of one appendToStreams call in flight at once. */
const APPEND_CONCURRENCY = 16;

/**
 * Reads a whole (bounded) read call before anything is handed on: leaving a
 * finished gRPC read half-consumed keeps it open and makes dispose() hang.
 */
const readToEnd = async <T>(read: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
};

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * EventStoreDB filters on event type or on stream name, not both: the server
 * takes the event types when there are any, and every event is checked again
 * here against the whole filter. System events never reach Tally.
 */
const serverFilter = (filter: SubscriptionFilter | undefined, passedOver: (position: string) => void): Filter => {
  const checkpointReached = (_: unknown, position: { commit: bigint }) => passedOver(encodeEsdbPosition(position));
  if (filter?.eventTypes) return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`, checkpointReached });
  if (filter?.streamPrefixes) return streamNameFilter({ prefixes: [...filter.streamPrefixes], checkpointReached });
  return excludeSystemEvents({ checkpointReached });
};

export interface EsdbEventStoreOptions {
  readonly connectionString: string;
  /** Longest pause between two attempts to resubscribe after a dropped subscription. */
  readonly maxResubscribeDelayMs?: number;
  readonly onResubscribe?: (error: unknown, attempt: number) => void;
}

/**
 * Tally learns of a refused append from the error the client throws. With
 * `throwOnAppendFailure=false` in the connection string the client would
 * resolve `{ success: false }` instead, and 6.2.1's batch append then makes up
 * the stream's revision (`BigInt(true)`): the option is forced on, whatever
 * the connection string says (the last value of an option wins).
 */
const throwingOnAppendFailure = (connectionString: string): string => `${connectionString}${connectionString.includes('?') ? '&' : '?'}throwOnAppendFailure=true`;

export const createEsdbEventStore = ({ connectionString, maxResubscribeDelayMs = 5000, onResubscribe }: EsdbEventStoreOptions): EventStore => {
  const client = EventStoreDBClient.connectionString(throwingOnAppendFailure(connectionString));

  const store: EventStore = {
    async appendToStreams(appends) {
      // EventStoreDB appends one stream per call: several calls in flight hide the round trips.
      const results: StreamAppendResult[] = new Array(appends.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let index = next++; index < appends.length; index = next++) {
          const { streamId, events, expectedRevision } = appends[index]!;
          try {
            results[index] = { ok: true, ...(await store.appendToStream(streamId, events, { expectedRevision })) };
          } catch (error) {
            // Refused, nothing of it written: that append's own result. A size refusal is for good, a retry would not help.
            if (!(error instanceof ConcurrencyError || error instanceof AppendTooLargeError)) throw error;
            results[index] = { ok: false, error };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(APPEND_CONCURRENCY, appends.length) }, worker));
      return results;
    },

    async appendToStream(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
      try {
        const result = await client.appendToStream(
          streamId,
          events.map((event) => jsonEvent({ id: event.id ?? randomUUID(), type: event.type, data: event.data, metadata: event.metadata ?? {} })),
          { expectedRevision: toAppendExpected(expectedRevision) },
        );
        // Never taken: the client throws on a refused append (throwingOnAppendFailure), whose revision it may make up.
        if (!result.success) throw new Error(`EventStoreDB refused the append to ${streamId} without an error`);
        if (!result.position) throw new Error('EventStoreDB gave no position for the append; Tally needs a server ≥ 22.6');
        return { nextRevision: result.nextExpectedRevision, position: encodeEsdbPosition(result.position) };
      } catch (error) {
        // Both append calls (Append, and BatchAppend on a server that lists it) give the stream's actual revision here.
        if (error instanceof WrongExpectedVersionError) {
          const actual = error.actualVersion;
          throw new ConcurrencyError(streamId, expectedRevision, typeof actual === 'bigint' ? actual : 'no_stream');
        }
        if (error instanceof MaxAppendSizeExceededError) throw new AppendTooLargeError(streamId, error.maxAppendSize);
        throw error;
      }
    },

    async *readStream(streamId, { fromRevision, maxCount, direction = 'forwards' } = {}) {
      const backwards = direction === 'backwards';
      let remaining = maxCount ?? Number.POSITIVE_INFINITY;
      let from: bigint | typeof START | typeof END = fromRevision ?? (backwards ? END : START);
      while (remaining > 0) {
        const size = Math.min(PAGE_SIZE, remaining);
        let page: ResolvedEvent[];
        try {
          page = await readToEnd(client.readStream(streamId, { direction: backwards ? BACKWARDS : FORWARDS, fromRevision: from, maxCount: size }));
        } catch (error) {
          if (error instanceof StreamNotFoundError) return;
          throw error;
        }
        for (const resolved of page) {
          const recorded = toRecorded(resolved);
          if (recorded) yield recorded;
        }
        const last = page.at(-1)?.event?.revision;
        if (page.length < size || last === undefined || (backwards && last === 0n)) return;
        remaining -= page.length;
        from = backwards ? last - 1n : last + 1n;
      }
    },

    async *readAll({ fromPosition, maxCount } = {}) {
      let remaining = maxCount ?? Number.POSITIVE_INFINITY;
      let after = fromPosition;
      while (remaining > 0) {
        // EventStoreDB reads $all from a position inclusively; the port reads after it, hence one more.
        const size = Math.min(PAGE_SIZE, remaining) + (after === undefined ? 0 : 1);
        const page = await readToEnd(client.readAll({ fromPosition: after === undefined ? START : decodeEsdbPosition(after), direction: FORWARDS, maxCount: size }));
        for (const resolved of page) {
          const recorded = toRecorded(resolved);
          if (!recorded || (after !== undefined && recorded.position <= after) || remaining <= 0) continue;
          remaining--;
          yield recorded;
        }
        const last = page.at(-1);
        const commit = last?.event?.position?.commit ?? last?.commitPosition;
        if (page.length < size || commit === undefined) return;
        after = encodeEsdbPosition({ commit });
      }
    },

    subscribeToAll: ({ fromPosition, filter } = {}) =>
      resubscribingSubscription({
        fromPosition,
        maxDelayMs: maxResubscribeDelayMs,
        onResubscribe,
        subscribe: (after, passedOver) => {
          // The client reports a filter checkpoint when it reads it, while events before it may still wait
          // in its buffer: a checkpoint is passed on only once every event before it has been consumed.
          let pulled = 0;
          const checkpoints: { position: string; after: number }[] = [];
          const passOver = (): void => {
            while (checkpoints[0] && checkpoints[0].after <= pulled) passedOver(checkpoints.shift()!.position);
          };
          const subscription = client.subscribeToAll({
            fromPosition: after ? decodeEsdbPosition(after) : START,
            filter: serverFilter(filter, (position) => {
              checkpoints.push({ position, after: pulled + subscription.readableLength });
              // Nothing waiting before it (the consumer is idle, say, past a run of filtered-out events): at once.
              passOver();
            }),
          });
          return {
            events: (async function* () {
              for await (const resolved of subscription) {
                pulled++;
                const recorded = toRecorded(resolved);
                if (recorded && matchesFilter(filter, recorded)) yield recorded;
                passOver();
              }
            })(),
            close: () => subscription.unsubscribe(),
          };
        },
      }),

    async headPosition() {
      // The last event Tally would deliver: the server's own events ($-typed, written now and then) are passed over,
      // or a subscriber that has read everything would never be seen to reach the head.
      let from: typeof END | { commit: bigint; prepare: bigint } = END;
      for (;;) {
        const page: AllStreamResolvedEvent[] = await readToEnd(client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: HEAD_PAGE_SIZE }));
        for (const resolved of page) {
          const recorded = toRecorded(resolved);
          if (recorded) return recorded.position;
        }
        const oldest: AllStreamResolvedEvent | undefined = page.at(-1);
        const commit: bigint | undefined = oldest?.event?.position?.commit ?? oldest?.commitPosition;
        if (page.length < HEAD_PAGE_SIZE || commit === undefined) return undefined;
        // Backwards from a position leaves out the event at it.
        from = { commit, prepare: oldest?.event?.position?.prepare ?? commit };
      }
    },

    async countAfter(position, cap) {
      // $all has no count: the events are read, at most `cap` of them.
      let events = 0;
      let oldestRecordedAt: Date | undefined;
      for await (const event of store.readAll({ fromPosition: position, maxCount: cap })) {
        events++;
        if (!oldestRecordedAt || event.recordedAt < oldestRecordedAt) oldestRecordedAt = event.recordedAt;
      }
      return { events, oldestRecordedAt };
    },

    isPosition: (value) => /^\d{20}$/.test(value),

    async close() {
      await client.dispose();
    },
  };
  return store;
};
