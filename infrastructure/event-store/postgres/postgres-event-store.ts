import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DatabaseTimeouts } from '../../config.ts';
import { createNotifier, listenToChannel } from '../../postgres/notifications.ts';
import {
  ConcurrencyError,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamAppendResult,
  type SubscribeOptions,
  type SubscriptionFilter,
} from '../event-store.ts';
import { createGroupCommit } from './group-commit.ts';
import { decodePosition, encodePosition, START } from './position.ts';
import { createLogTail, type LogTail } from './log-tail.ts';
import { pollingSubscription } from './polling-subscription.ts';

const CHANNEL = 'tally_events';
const PAGE_SIZE = 1000;

const EXPECTED_CODE = { no_stream: -1n, any: -2n, stream_exists: -3n } as const;

interface EventRow {
  event_id: string;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
  stream_id: string;
  revision: string;
  epoch: number;
  transaction_id: string;
  global_position: string;
  recorded_at: Date;
}

const COLUMNS = 'event_id, type, data, metadata, stream_id, revision, epoch, transaction_id, global_position, recorded_at';

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  streamId: row.stream_id,
  revision: BigInt(row.revision),
  position: encodePosition(row.epoch, row.transaction_id, row.global_position),
  recordedAt: row.recorded_at,
});

export interface PostgresEventStoreOptions {
  /** Used for the LISTEN connection, which cannot come from the pool. */
  readonly connectionString: string;
  readonly pool: pg.Pool;
  /** Longest a subscriber waits between polls when no notification arrives. */
  readonly maxPollIntervalMs?: number;
  /** Limits of the LISTEN connection (connect timeout, keepalive). */
  readonly timeouts?: DatabaseTimeouts;
  /** Events of the log's head kept in memory for this process's subscribers. */
  readonly tailCapacity?: number;
  /** Single appends in flight at once; more arriving meanwhile are committed together (group-commit.ts). */
  readonly appendsInFlight?: number;
}

export const createPostgresEventStore = ({ connectionString, pool, maxPollIntervalMs = 500, timeouts, tailCapacity = 10_000, appendsInFlight = 4 }: PostgresEventStoreOptions): EventStore => {
  const notifier = createNotifier(pool, CHANNEL);
  let listener: ReturnType<typeof listenToChannel> | undefined;
  const wakeUps = () => (listener ??= listenToChannel(connectionString, CHANNEL, timeouts));

  const appendOnce = async (streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> => {
    const expected = typeof expectedRevision === 'bigint' ? expectedRevision : EXPECTED_CODE[expectedRevision];
    try {
      const [single] = events;
      const [sql, values] =
        events.length === 1 && single
          ? [
              'select * from tally_append_one($1, $2, $3, $4, $5, $6)',
              [streamId, expected.toString(), single.id ?? randomUUID(), single.type, JSON.stringify(single.data), JSON.stringify(single.metadata ?? {})],
            ]
          : [
              'select * from tally_append_many($1, $2, $3)',
              [streamId, expected.toString(), JSON.stringify(events.map(({ id, type, data, metadata }) => ({ id: id ?? randomUUID(), type, data, metadata: metadata ?? {} })))],
            ];
      const { rows } = await pool.query<{ next_revision: string; epoch: number; transaction_id: string; global_position: string }>(sql, values);
      const row = rows[0]!;
      return { nextRevision: BigInt(row.next_revision), position: encodePosition(row.epoch, row.transaction_id, row.global_position) };
    } catch (error) {
      const { code, detail, constraint } = error as { code?: string; detail?: string; constraint?: string };
      if (code === 'TA001') {
        const actual = BigInt(detail ?? '-1');
        throw new ConcurrencyError(streamId, expectedRevision, actual < 0n ? 'no_stream' : actual);
      }
      // Two writers created the same stream at once; the loser sees the key clash.
      if (code === '23505' && constraint === 'tally_streams_pkey') throw new StreamCreatedConcurrently();
      throw error;
    }
  };

  /**
   * Rows after a position and below the reader's horizon (visibility.ts): the
   * horizon is a bound of the primary key's order, so the scan stops there.
   */
  const HORIZON = 'horizon as materialized (select tally_epoch() as epoch, tally_visible_before() as before)';
  const WINDOW = `(e.epoch, e.transaction_id, e.global_position) > ($1::int, $2::text::xid8, $3::bigint)
    and (e.epoch, e.transaction_id) < (horizon.epoch, horizon.before)`;
  const ORDER = 'e.epoch, e.transaction_id, e.global_position';
  const fromParams = (after: string | undefined) => {
    const from = after ? decodePosition(after) : START;
    return [from.epoch, from.transactionId, from.globalPosition];
  };
  const columnsOf = (alias: string) => COLUMNS.split(', ').map((column) => `${alias}.${column}`).join(', ');

  const readPage = async (after: string | undefined, limit: number): Promise<RecordedEvent[]> => {
    const { rows } = await pool.query<EventRow>(
      `with ${HORIZON} select ${columnsOf('e')} from tally_events e, horizon where ${WINDOW} order by ${ORDER} limit $4`,
      [...fromParams(after), limit],
    );
    return rows.map(toRecorded);
  };

  /** One window of the log, `limit` events long: the ones the filter wants, and where the window ends. */
  const readFilteredPage = async (after: string | undefined, limit: number, filter: SubscriptionFilter) => {
    const { rows } = await pool.query<EventRow & { last_epoch: number; last_transaction_id: string; last_global_position: string }>(
      `with ${HORIZON}, scanned as (
         select e.epoch, e.transaction_id, e.global_position, e.type, e.stream_id from tally_events e, horizon
          where ${WINDOW} order by ${ORDER} limit $4
       ), last as (
         select epoch, transaction_id, global_position from scanned order by epoch desc, transaction_id desc, global_position desc limit 1
       ), wanted as (
         select s.epoch, s.transaction_id, s.global_position from scanned s
          where ($5::text[] is null or s.type = any($5))
            and ($6::text[] is null or exists (select from unnest($6::text[]) p where starts_with(s.stream_id, p)))
       )
       select ${columnsOf('e')},
              last.epoch as last_epoch, last.transaction_id as last_transaction_id, last.global_position as last_global_position
         from last
         left join (wanted w join tally_events e using (epoch, transaction_id, global_position)) on true
        order by ${ORDER}`,
      [...fromParams(after), limit, filter.eventTypes ?? null, filter.streamPrefixes ?? null],
    );
    const last = rows[0];
    return {
      events: rows.filter((row) => row.event_id !== null).map(toRecorded),
      scannedTo: last ? encodePosition(last.last_epoch, last.last_transaction_id, last.last_global_position) : undefined,
    };
  };

  let logTail: LogTail | undefined;
  const tail = (): LogTail =>
    (logTail ??= createLogTail({
      readPage,
      writeGeneration: () => wakeUps().generation(),
      waitForWrites: (timeoutMs, signal, since) => wakeUps().wait(timeoutMs, signal, since),
      maxPollIntervalMs,
      pageSize: PAGE_SIZE,
      capacity: tailCapacity,
    }));

  const toExpected = (expectedRevision: ExpectedRevision): string => (typeof expectedRevision === 'bigint' ? expectedRevision : EXPECTED_CODE[expectedRevision]).toString();

  /** Many streams in one statement: tally_append_batch (append-batch.ts). */
  const appendBatch = async (appends: readonly StreamAppend[]): Promise<StreamAppendResult[]> => {
    const items = JSON.stringify(
      appends.map(({ streamId, events, expectedRevision }) => ({
        stream: streamId,
        expected: toExpected(expectedRevision),
        events: events.map(({ id, type, data, metadata }) => ({ id: id ?? randomUUID(), type, data, metadata: metadata ?? {} })),
      })),
    );
    let rows: { item: number; ok: boolean; actual: string; next_revision: string; epoch: number; transaction_id: string; global_position: string }[];
    for (let attempt = 1; ; attempt++) {
      try {
        ({ rows } = await pool.query('select * from tally_append_batch($1::jsonb)', [items]));
        break;
      } catch (error) {
        // Two batches that share streams, taken in other orders: PostgreSQL undoes one; it is tried again whole.
        if ((error as { code?: string }).code !== '40P01' || attempt >= 3) throw error;
      }
    }
    return rows.map((row, index): StreamAppendResult => {
      const { streamId, expectedRevision } = appends[index]!;
      if (!row.ok) {
        const actual = BigInt(row.actual);
        return { ok: false, error: new ConcurrencyError(streamId, expectedRevision, actual < 0n ? 'no_stream' : actual) };
      }
      return { ok: true, nextRevision: BigInt(row.next_revision), position: encodePosition(row.epoch, row.transaction_id, row.global_position) };
    });
  };

  /** One stream in one statement: tally_append_one or tally_append_many. */
  const appendAlone = async ({ streamId, events, expectedRevision }: StreamAppend): Promise<StreamAppendResult> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, ...(await appendOnce(streamId, events, expectedRevision)) };
      } catch (error) {
        if (error instanceof ConcurrencyError) return { ok: false, error };
        if (!(error instanceof StreamCreatedConcurrently)) throw error;
        // The stream exists now: for no_stream that is a conflict; otherwise check again.
        if (expectedRevision === 'no_stream' || attempt > 0) {
          return { ok: false, error: new ConcurrencyError(streamId, expectedRevision, await currentRevision(pool, streamId)) };
        }
      }
    }
  };

  const groupCommit = createGroupCommit({ maxInFlight: appendsInFlight, maxGroup: 1000, alone: appendAlone, together: appendBatch, rolledBack: refusedByServer });

  return {
    async appendToStreams(appends) {
      if (appends.length === 0) return [];
      if (appends.some((append) => append.events.length === 0)) throw new TypeError('appendToStreams needs at least one event per stream');
      // One stream alone costs a third of what tally_append_batch does for it (at a low rate, most batches).
      const results = appends.length === 1 ? [await appendAlone(appends[0]!)] : await appendBatch(appends);
      notifier.poke();
      return results;
    },

    async appendToStream(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
      const result = await groupCommit.append({ streamId, events, expectedRevision });
      if (!result.ok) throw result.error;
      notifier.poke();
      return { nextRevision: result.nextRevision, position: result.position };
    },

    async *readStream(streamId, { fromRevision, maxCount, direction = 'forwards' }: ReadStreamOptions = {}) {
      const backwards = direction === 'backwards';
      let remaining = maxCount ?? Number.POSITIVE_INFINITY;
      let next: bigint | undefined = fromRevision;
      while (remaining > 0) {
        const limit = Math.min(PAGE_SIZE, remaining);
        const { rows } = await pool.query<EventRow>(
          `select ${COLUMNS} from tally_events
            where stream_id = $1 and ($2::bigint is null or revision ${backwards ? '<=' : '>='} $2)
            order by revision ${backwards ? 'desc' : 'asc'} limit $3`,
          [streamId, next?.toString() ?? null, limit],
        );
        for (const row of rows) yield toRecorded(row);
        if (rows.length < limit) return;
        remaining -= rows.length;
        const last = BigInt(rows[rows.length - 1]!.revision);
        next = backwards ? last - 1n : last + 1n;
        if (next < 0n) return;
      }
    },

    async *readAll({ fromPosition, maxCount }: ReadAllOptions = {}) {
      let remaining = maxCount ?? Number.POSITIVE_INFINITY;
      let after = fromPosition;
      while (remaining > 0) {
        const page = await readPage(after, Math.min(PAGE_SIZE, remaining));
        for (const event of page) yield event;
        if (page.length === 0) return;
        remaining -= page.length;
        after = page[page.length - 1]!.position;
      }
    },

    subscribeToAll: ({ fromPosition, filter }: SubscribeOptions = {}) =>
      pollingSubscription({
        fromPosition,
        filter,
        readPage: async (after) => {
          if (filter) return readFilteredPage(after, PAGE_SIZE, filter);
          const events = await readPage(after, PAGE_SIZE);
          return { events, scannedTo: events.at(-1)?.position };
        },
        tail: tail(),
      }),

    async headPosition() {
      const { rows } = await pool.query<{ epoch: number; transaction_id: string; global_position: string }>(
        'select epoch, transaction_id, global_position from tally_events order by epoch desc, transaction_id desc, global_position desc limit 1',
      );
      return rows[0] && encodePosition(rows[0].epoch, rows[0].transaction_id, rows[0].global_position);
    },

    async countAfter(position, cap) {
      // The window readAll reads, without the events: only recorded_at leaves the table.
      const { rows } = await pool.query<{ events: number; oldest: Date | null }>(
        `with ${HORIZON}, counted as (select e.recorded_at from tally_events e, horizon where ${WINDOW} order by ${ORDER} limit $4)
         select count(*)::int as events, min(recorded_at) as oldest from counted`,
        [...fromParams(position), cap],
      );
      return { events: rows[0]?.events ?? 0, oldestRecordedAt: rows[0]?.oldest ?? undefined };
    },

    isPosition: (value) => /^\d{20}:\d{20}$/.test(value),

    async close() {
      logTail?.close();
      await listener?.close();
    },
  };
};

class StreamCreatedConcurrently extends Error {}

const currentRevision = async (pool: pg.Pool, streamId: string): Promise<bigint | 'no_stream'> => {
  const { rows } = await pool.query<{ revision: string }>('select revision from tally_streams where stream_id = $1', [streamId]);
  return rows[0] ? BigInt(rows[0].revision) : 'no_stream';
};

/**
 * A statement the server answered with an error has been rolled back. Not so
 * when the connection broke (class 08), the server went down (57P01–57P03), or
 * no answer came at all (no SQLSTATE: a lost link, a client-side timeout):
 * the statement may have committed.
 */
const refusedByServer = (error: unknown): boolean =>
  error instanceof pg.DatabaseError && !error.code?.startsWith('08') && !['57P01', '57P02', '57P03'].includes(error.code ?? '');
