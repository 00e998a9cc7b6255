/**
 * Throughput of the PostgreSQL event store adapter against the physical limit
 * of the same server: a raw INSERT into a table shaped like tally_events.
 *
 *   npm run bench:event-store                 # embedded PostgreSQL in a temporary folder
 *   DATABASE_URL=postgres://… npm run bench:event-store
 *
 * BENCH_SECONDS (5) per measurement, after BENCH_WARMUP_SECONDS (1) of warm-up;
 * the write scenarios of one concurrency take turns in 1 s slices (see runInterleaved);
 * BENCH_CATCHUP_EVENTS (100000) events for the read side. Progress goes to
 * stderr, the results (a Markdown table) to stdout. See docs/benchmarks.md.
 */
import type pg from 'pg';
import type { EventStore, SubscriptionFilter } from '../infrastructure/event-store/event-store.ts';
import { createPostgresEventStore } from '../infrastructure/event-store/postgres/postgres-event-store.ts';
import { eventStoreMigrations } from '../infrastructure/event-store/postgres/schema.ts';
import { createLogger } from '../infrastructure/logger.ts';
import { createKnex, createPool } from '../infrastructure/postgres/database.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { onBenchDatabase } from './bench-database.ts';
import { formatTable, runInterleaved, targetMet, timeOnce, type Operation, type ResultRow, type Throughput } from './measure.ts';
import { newTrackedEventStream, registrations, trackedEventRegistration } from './payloads.ts';

const numberFromEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const SECONDS = numberFromEnv('BENCH_SECONDS', 5);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 1);
const SLICE_SECONDS = 1;
const CATCH_UP_EVENTS = numberFromEnv('BENCH_CATCHUP_EVENTS', 100_000);
const POOL_SIZE = 20;
const CONCURRENCIES = [1, 16] as const;
const BATCH_SIZE = 100;
const APPEND_TARGET_RATIO = 0.6;
const CATCH_UP_TARGET = 50_000;

const progress = (message: string): void => void process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------- raw baseline

/** tally_events without the event store around it: same columns, defaults, keys. */
const RAW_TABLE = `
  create table bench_raw_events (
    global_position bigserial not null,
    transaction_id xid8 not null default pg_current_xact_id(),
    stream_id text not null,
    revision bigint not null,
    event_id uuid not null,
    type text not null,
    data jsonb not null,
    metadata jsonb not null,
    recorded_at timestamptz not null default now(),
    primary key (transaction_id, global_position),
    unique (stream_id, revision)
  )`;

const RAW_INSERT = `insert into bench_raw_events (stream_id, revision, event_id, type, data, metadata) values ($1, 0, $2, $3, $4, $5)`;

const RAW_INSERT_BATCH = `
  insert into bench_raw_events (stream_id, revision, event_id, type, data, metadata)
  select $1, u.n - 1, u.i, u.t, u.d, u.m
    from unnest($2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[]) with ordinality as u(i, t, d, m, n)`;

let sequence = 0;
const nextEvents = (count: number) => registrations(count, (sequence += count) - count);

const rawInsert =
  (pool: pg.Pool): Operation =>
  async () => {
    const event = trackedEventRegistration(sequence++);
    await pool.query(RAW_INSERT, [newTrackedEventStream(), event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)]);
    return 1;
  };

const rawInsertBatch =
  (pool: pg.Pool, size: number): Operation =>
  async () => {
    const events = nextEvents(size);
    await pool.query(RAW_INSERT_BATCH, [
      newTrackedEventStream(),
      events.map((event) => event.id),
      events.map((event) => event.type),
      events.map((event) => JSON.stringify(event.data)),
      events.map((event) => JSON.stringify(event.metadata)),
    ]);
    return size;
  };

// ---------------------------------------------------------------- the adapter

/** A new stream per append, as POST /events does: `no_stream`, so the stream row is inserted. */
const appendToNewStream =
  (store: EventStore, size: number): Operation =>
  async () => {
    await store.appendToStream(newTrackedEventStream(), nextEvents(size), { expectedRevision: 'no_stream' });
    return size;
  };

/** One long stream per worker, `any`: the stream row is locked and updated each time. */
const appendToOwnStream = (store: EventStore, label: string): Operation => {
  const streams = new Map<number, string>();
  return async (worker) => {
    if (!streams.has(worker)) streams.set(worker, `${label}-${worker}-${newTrackedEventStream()}`);
    await store.appendToStream(streams.get(worker)!, nextEvents(1), { expectedRevision: 'any' });
    return 1;
  };
};

// ---------------------------------------------------------------- measuring

const measureWrites = async (pool: pg.Pool, store: EventStore): Promise<ResultRow[]> => {
  const rows: ResultRow[] = [];
  for (const concurrency of CONCURRENCIES) {
    // A checkpoint first, so that no group pays for the WAL of the one before.
    await pool.query('checkpoint').catch(() => undefined);
    const rates = await runInterleaved(
      [
        { name: 'raw', operation: rawInsert(pool) },
        { name: 'single', operation: appendToNewStream(store, 1) },
        { name: 'own', operation: appendToOwnStream(store, `own-${concurrency}`) },
        { name: 'rawBatch', operation: rawInsertBatch(pool, BATCH_SIZE) },
        { name: 'batch', operation: appendToNewStream(store, BATCH_SIZE) },
      ],
      { concurrency, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, sliceSeconds: SLICE_SECONDS },
    );
    const rate = (name: string): number => rates.get(name)!.perSecond;
    const [raw, rawBatch] = [rate('raw'), rate('rawBatch')];
    const target = concurrency === 16 ? { ratio: APPEND_TARGET_RATIO } : undefined;
    const group: ResultRow[] = [
      { scenario: 'raw INSERT, 1 row per statement (baseline)', concurrency, perSecond: raw, rawPerSecond: raw },
      { scenario: 'appendToStream 1 event, new stream, no_stream', concurrency, perSecond: rate('single'), rawPerSecond: raw, ...(target && { target }) },
      { scenario: 'appendToStream 1 event, own stream, any', concurrency, perSecond: rate('own'), rawPerSecond: raw },
      { scenario: `raw INSERT, ${BATCH_SIZE} rows per statement (baseline)`, concurrency, perSecond: rawBatch, rawPerSecond: rawBatch },
      { scenario: `appendToStream ${BATCH_SIZE} events, new stream, no_stream`, concurrency, perSecond: rate('batch'), rawPerSecond: rawBatch },
    ];
    for (const row of group) progress(`  ${row.scenario}, concurrency ${concurrency}: ${Math.round(row.perSecond)} rows/s`);
    rows.push(...group);
  }
  return rows;
};

/** An empty log, then `count` events in batches of 100 from 16 writers; vacuumed, as an old log would be. */
const seedLog = async (pool: pg.Pool, store: EventStore, count: number): Promise<Throughput> => {
  await pool.query('truncate tally_events, tally_streams');
  let remaining = count;
  const seeded = await timeOnce(async () => {
    const worker = async (): Promise<void> => {
      while (remaining > 0) {
        const size = Math.min(BATCH_SIZE, remaining);
        remaining -= size;
        await store.appendToStream(newTrackedEventStream(), nextEvents(size), { expectedRevision: 'no_stream' });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return count;
  });
  await pool.query('vacuum (analyze) tally_events');
  return seeded;
};

const catchUp = (store: EventStore, count: number, filter?: SubscriptionFilter): Promise<Throughput> =>
  timeOnce(async () => {
    const subscription = store.subscribeToAll(filter ? { filter } : {});
    let delivered = 0;
    try {
      for await (const _event of subscription) if (++delivered === count) break;
    } finally {
      await subscription.close();
    }
    return delivered;
  });

const readToEnd = (store: EventStore): Promise<Throughput> =>
  timeOnce(async () => {
    let read = 0;
    for await (const _event of store.readAll()) read++;
    return read;
  });

const measureReads = async (pool: pg.Pool, store: EventStore): Promise<ResultRow[]> => {
  progress(`  seeding ${CATCH_UP_EVENTS} events in batches of ${BATCH_SIZE}`);
  const seeded = await seedLog(pool, store, CATCH_UP_EVENTS);
  progress(`  seeded at ${Math.round(seeded.perSecond)} events/s`);
  const target = { perSecond: CATCH_UP_TARGET };
  const unfiltered = await catchUp(store, CATCH_UP_EVENTS);
  const filtered = await catchUp(store, CATCH_UP_EVENTS, { eventTypes: ['EventRegistered'], streamPrefixes: ['tracked-event-'] });
  const readAll = await readToEnd(store);
  if (readAll.rows !== CATCH_UP_EVENTS) throw new Error(`readAll read ${readAll.rows} events, expected ${CATCH_UP_EVENTS}`);
  return [
    { scenario: `subscribeToAll catch-up from the start, ${CATCH_UP_EVENTS} events, unfiltered`, concurrency: '—', perSecond: unfiltered.perSecond, target },
    { scenario: `subscribeToAll catch-up from the start, ${CATCH_UP_EVENTS} events, filtered (type + prefix)`, concurrency: '—', perSecond: filtered.perSecond, target },
    { scenario: `readAll from the start, ${CATCH_UP_EVENTS} events`, concurrency: '—', perSecond: readAll.perSecond },
  ];
};

// ---------------------------------------------------------------- the run

const describeServer = async (pool: pg.Pool, embedded: boolean): Promise<string> => {
  const setting = async (name: string): Promise<string> => (await pool.query<{ value: string }>(`select current_setting($1) as value`, [name])).rows[0]!.value;
  const version = await setting('server_version');
  const settings = await Promise.all(['shared_buffers', 'synchronous_commit', 'fsync'].map(async (name) => `${name}=${await setting(name)}`));
  return `PostgreSQL ${version} (${embedded ? 'embedded' : 'DATABASE_URL'}), ${settings.join(', ')}`;
};

const prepareDatabase = async (url: string): Promise<void> => {
  const knex = createKnex({ url, max: 2 });
  try {
    await migrate(knex, 'tally_event_store_migrations', eventStoreMigrations);
    await knex.raw(RAW_TABLE);
  } finally {
    await knex.destroy();
  }
};

const benchmark = async (url: string, embedded: boolean): Promise<void> => {
  await prepareDatabase(url);
  const pool = createPool({ url, max: POOL_SIZE });
  const store = createPostgresEventStore({ connectionString: url, pool });
  try {
    const server = await describeServer(pool, embedded);
    progress(`${server}; pool ${POOL_SIZE}; ${SECONDS} s per measurement after ${WARMUP_SECONDS} s of warm-up`);
    const rows = [...(await measureWrites(pool, store)), ...(await measureReads(pool, store))];
    console.log(`${server}; pool ${POOL_SIZE}; ${SECONDS} s per measurement after ${WARMUP_SECONDS} s of warm-up; event data ${JSON.stringify(trackedEventRegistration(0).data).length} bytes of JSON\n`);
    console.log(formatTable(rows));
    const missed = rows.filter((row) => targetMet(row) === false).length;
    console.log(missed ? `\n${missed} target(s) missed` : '\nall targets met');
  } finally {
    await store.close();
    await pool.end();
  }
};

await onBenchDatabase(createLogger(process.env.LOG_LEVEL ?? 'warn'), benchmark);

