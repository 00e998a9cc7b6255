import { randomUUID } from 'node:crypto';
/**
 * The test server's whole database: one ordered log of events ($all) and, per
 * stream, the same events by revision. Like a real server's, $all holds system
 * events (`$`-typed, in `$`-streams) from the start and now and then between
 * the clients' events. No metadata streams, no deletes, no persistence.
 */

/** An event as recorded. Its position serves as both commit and prepare position. */
export interface StoredEvent {
  readonly id: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly type: string;
  readonly contentType: string;
  /** Ticks (100 ns) since the Unix epoch: what EventStoreDB puts in the `created` metadata entry. */
  readonly created: bigint;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export type ProposedEvent = Pick<StoredEvent, 'id' | 'type' | 'contentType' | 'data' | 'customMetadata'>;

export type ExpectedRevision = bigint | 'any' | 'no_stream' | 'stream_exists';

/** `currentRevision` undefined means the stream does not exist. */
export type AppendOutcome =
  | { readonly ok: true; readonly currentRevision: bigint | undefined; readonly position: bigint | undefined }
  | { readonly ok: false; readonly currentRevision: bigint | undefined };

/** A $all position as the wire carries it. Positions order by commit, then prepare. */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** < 0, 0, > 0 as the event stands before, at, or after `position`. */
export const compareToPosition = (event: StoredEvent, position: LogPosition): number => {
  const difference = event.position !== position.commit ? event.position - position.commit : event.position - position.prepare;
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};

/**
 * Like a real transaction file, positions are byte-offset-like: increasing but
 * not consecutive, and the first event is not at 0 (a real log starts with
 * system records). Code that does `position + 1` or treats 0 as "start" breaks
 * here as it would on a real server.
 */
const FIRST_POSITION = 1024n;
const RECORD_OVERHEAD = 128;

const TICKS_PER_MILLISECOND = 10_000n;

/** What a fresh EventStoreDB 24.10 writes to $all before any client does: its settings and its default users. */
const FIRST_SYSTEM_EVENTS: readonly { stream: string; type: string; data: object }[] = [
  { stream: '$settings', type: '$settings', data: { $userStreamAcl: { $r: '$all', $w: '$all' }, $systemStreamAcl: { $r: '$admins', $w: '$admins' } } },
  { stream: '$user-admin', type: '$UserCreated', data: { loginName: 'admin', fullName: 'Event Store Administrator', groups: ['$admins'] } },
  { stream: '$users', type: '$User', data: { loginName: 'admin' } },
  { stream: '$user-ops', type: '$UserCreated', data: { loginName: 'ops', fullName: 'Event Store Operations', groups: ['$ops'] } },
  { stream: '$users', type: '$User', data: { loginName: 'ops' } },
];

/** Stream names starting with `$` belong to the server. */
export const isSystemStream = (streamName: string): boolean => streamName.startsWith('$');

export interface InMemoryLogOptions {
  /**
   * A `$statsCollected` event in `$stats-…` after every this many appends of
   * clients (a real server writes one every 30 s by default), so that system
   * events sit between the clients' events; 0: none.
   */
  readonly systemEventEvery?: number;
}

export class InMemoryLog {
  readonly #all: StoredEvent[] = [];
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #listeners = new Set<(event: StoredEvent) => void>();
  readonly #systemEventEvery: number;
  #nextPosition = FIRST_POSITION;
  #clientAppends = 0;

  constructor({ systemEventEvery = 5 }: InMemoryLogOptions = {}) {
    this.#systemEventEvery = systemEventEvery;
    for (const { stream, type, data } of FIRST_SYSTEM_EVENTS) this.appendSystemEvent(stream, type, data);
  }

  /** Writes what the server itself would: a `$`-typed event in a `$`-stream. */
  appendSystemEvent(streamName = '$stats-127.0.0.1:2113', type = '$statsCollected', data: object = { 'proc-cpu': 1.5 }): void {
    const bytes = Uint8Array.from(Buffer.from(JSON.stringify(data)));
    this.#write(streamName, 'any', [{ id: randomUUID(), type, contentType: 'application/json', data: bytes, customMetadata: new Uint8Array() }]);
  }

  /** Every event, in $all order. */
  get events(): readonly StoredEvent[] {
    return this.#all;
  }

  /** A stream's events by revision; undefined if the stream does not exist. */
  stream(name: string): readonly StoredEvent[] | undefined {
    return this.#streams.get(name);
  }

  /** Appends all events or none, checking the expected revision as EventStoreDB does. */
  append(streamName: string, expected: ExpectedRevision, proposed: readonly ProposedEvent[]): AppendOutcome {
    const outcome = this.#write(streamName, expected, proposed);
    if (outcome.ok && proposed.length > 0 && !isSystemStream(streamName) && this.#systemEventEvery > 0 && ++this.#clientAppends % this.#systemEventEvery === 0) {
      this.appendSystemEvent();
    }
    return outcome;
  }

  #write(streamName: string, expected: ExpectedRevision, proposed: readonly ProposedEvent[]): AppendOutcome {
    const stream = this.#streams.get(streamName);
    const currentRevision = stream ? BigInt(stream.length - 1) : undefined;
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && currentRevision === undefined) ||
      (expected === 'stream_exists' && currentRevision !== undefined) ||
      (typeof expected === 'bigint' && expected === currentRevision);
    if (!matches) return { ok: false, currentRevision };
    if (proposed.length === 0) return { ok: true, currentRevision, position: undefined };

    const events = stream ?? [];
    this.#streams.set(streamName, events);
    const created = BigInt(Date.now()) * TICKS_PER_MILLISECOND;
    const appended = proposed.map((event): StoredEvent => {
      const stored = { ...event, streamName, revision: BigInt(events.length), position: this.#nextPosition, created };
      this.#nextPosition += BigInt(RECORD_OVERHEAD + event.data.length + event.customMetadata.length);
      events.push(stored);
      this.#all.push(stored);
      return stored;
    });
    for (const event of appended) for (const listener of [...this.#listeners]) listener(event);
    const last = appended[appended.length - 1]!;
    return { ok: true, currentRevision: last.revision, position: last.position };
  }

  /** Calls `listener` with every event appended from now on, in order. Returns the unsubscribe. */
  onAppended(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
