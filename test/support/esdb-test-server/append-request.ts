import type { AppendOutcome, ExpectedRevision, InMemoryLog, ProposedEvent } from './in-memory-log.ts';
import type { StreamsPb } from './stubs.ts';

/**
 * What `Streams.Append` (append.ts) and `Streams.BatchAppend`
 * (batch-append.ts) share: reading the expected revision and the proposed
 * events, the size limit, and the fields of a success or a wrong expected
 * version, which both calls answer with messages of their own but alike.
 */

/** EventStoreDB's default `MaxAppendSize`: 1 MiB. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

/** A request that the test server cannot take (not one a real server would refuse the same way). */
export class InvalidAppendRequest extends Error {}

type AppendOptions = StreamsPb.AppendReq.Options | StreamsPb.BatchAppendReq.Options;
type ProposedMessage = StreamsPb.AppendReq.ProposedMessage | StreamsPb.BatchAppendReq.ProposedMessage;

/** The expected revision of either call's options (Append names the exact one `revision`, BatchAppend `stream_position`). */
export const expectedRevisionOf = (options: AppendOptions): ExpectedRevision => {
  if ('hasRevision' in options && options.hasRevision()) return BigInt(options.getRevision());
  if ('hasStreamPosition' in options && options.hasStreamPosition()) return BigInt(options.getStreamPosition());
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  return 'any';
};

/** A proposed message of either call, as the log takes it. */
export const proposedEvent = (message: ProposedMessage): ProposedEvent => {
  const id = message.getId();
  if (!id?.hasString()) throw new InvalidAppendRequest('the test server only takes event ids in the string form');
  const metadata = message.getMetadataMap();
  return {
    id: id.getString(),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
};

/**
 * What an event counts against `MaxAppendSize`, as EventStoreDB's
 * `Event.SizeOnDisk` reckons it: the data and custom metadata bytes, and two
 * bytes per UTF-16 code unit of the event type. (24.10.0 meant the same but,
 * by a slip of operator precedence, counted the data alone; 25.0 fixed it,
 * kurrent-io/KurrentDB#4882. The double counts it all: it refuses everything
 * 24.10 refuses, and what a current server refuses.)
 */
export const sizeOnDisk = (event: ProposedEvent): number => event.data.length + event.customMetadata.length + event.type.length * 2;

/** One append being received: its stream, its expected revision and the events so far, with their size. */
export class PendingAppend {
  readonly #events: ProposedEvent[] = [];
  #size = 0;

  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly maxAppendSize: number,
  ) {}

  /** Takes more events; false once the append is larger than `maxAppendSize` (a real server then refuses it, and writes none of it). */
  add(events: Iterable<ProposedEvent>): boolean {
    for (const event of events) {
      this.#size += sizeOnDisk(event);
      this.#events.push(event);
    }
    return this.#size <= this.maxAppendSize;
  }

  /** Writes every event or none, checking the expected revision. */
  commit(log: InMemoryLog): AppendOutcome {
    return log.append(this.streamName, this.expected, this.#events);
  }
}

/** `AppendResp.Success` and `BatchAppendResp.Success` alike; their position and empty messages differ. */
interface SuccessMessage<Position, Empty> {
  setCurrentRevision(revision: string): unknown;
  setNoStream(empty?: Empty): unknown;
  setPosition(position?: Position): unknown;
  setNoPosition(empty?: Empty): unknown;
}

interface PositionMessage {
  setCommitPosition(value: string): unknown;
  setPreparePosition(value: string): unknown;
}

/**
 * Fills a success as a real server does: the stream's revision now (or no
 * stream, for an empty append to a missing one) and the position of the last
 * event appended, as both commit and prepare position (or none, for an empty
 * append).
 */
export const fillSuccess = <Position extends PositionMessage, Empty>(
  success: SuccessMessage<Position, Empty>,
  outcome: Extract<AppendOutcome, { ok: true }>,
  newPosition: () => Position,
  newEmpty: () => Empty,
): void => {
  if (outcome.currentRevision === undefined) success.setNoStream(newEmpty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === undefined) return void success.setNoPosition(newEmpty());
  const position = newPosition();
  position.setCommitPosition(outcome.position.toString());
  position.setPreparePosition(outcome.position.toString());
  success.setPosition(position);
};

/**
 * `AppendResp.WrongExpectedVersion` and `event_store.client.WrongExpectedVersion`
 * (BatchAppend's error detail) alike: the same oneofs, but the exact revisions
 * are named differently, hence the two setters passed in.
 */
interface WrongExpectedVersionMessage<Empty> {
  setCurrentNoStream(empty?: Empty): unknown;
  setExpectedAny(empty?: Empty): unknown;
  setExpectedStreamExists(empty?: Empty): unknown;
  setExpectedNoStream(empty?: Empty): unknown;
}

/**
 * Fills a wrong expected version as a real server does for both calls: the
 * stream's current revision, or no stream; and what was expected, each kind in
 * its own field (the client reads them back into `WrongExpectedVersionError`'s
 * `actualVersion` and `expectedVersion`).
 */
export const fillWrongExpectedVersion = <Message extends WrongExpectedVersionMessage<Empty>, Empty>(
  message: Message,
  currentRevision: bigint | undefined,
  expected: ExpectedRevision,
  setRevision: { readonly current: (revision: string) => unknown; readonly expected: (revision: string) => unknown },
  newEmpty: () => Empty,
): void => {
  if (currentRevision === undefined) message.setCurrentNoStream(newEmpty());
  else setRevision.current(currentRevision.toString());
  if (typeof expected === 'bigint') setRevision.expected(expected.toString());
  else if (expected === 'no_stream') message.setExpectedNoStream(newEmpty());
  else if (expected === 'stream_exists') message.setExpectedStreamExists(newEmpty());
  else message.setExpectedAny(newEmpty());
};
