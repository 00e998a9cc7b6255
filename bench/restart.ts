/**
 * npm run bench:restart — how long the rule engine takes from its start until
 * it has caught up with the log (its rule book stands at the head, ready to
 * decide the next event), on a log of 1,000,000 decided tracked events:
 *
 * - before: no snapshot, the book is folded from the start of the log (what
 *   every start did before rule book snapshots);
 * - first start with snapshots: the same fold, saving a snapshot every
 *   100,000 events and one at the end when it stops;
 * - after: a restart from that snapshot.
 *
 * The engine's checkpoint is at the head throughout: every start only folds,
 * none decides (checked: the log does not grow).
 *
 *   npm run bench:restart                                    # embedded PostgreSQL in a temporary folder
 *   DATABASE_URL=postgres://… npm run bench:restart          # a server of your own (a database is created and dropped)
 *   BENCH_TRACKED_EVENTS=100000 npm run bench:restart        # a shorter log (default 1,000,000)
 *
 * BENCH_RESTARTS (3) restarts from the snapshot are timed; the median is shown.
 * Progress goes to stderr, the results (a Markdown table) to stdout.
 */
import { RULE_ENGINE_CHECKPOINT, startRuleEngine } from '../commands/reactors/rule-engine.ts';
import { RULE_BOOK_SNAPSHOT } from '../commands/restore-rule-book.ts';
import { isAtOrAfter, type EventStore } from '../infrastructure/event-store/event-store.ts';
import { createPostgresEventStore } from '../infrastructure/event-store/postgres/postgres-event-store.ts';
import { eventStoreMigrations } from '../infrastructure/event-store/postgres/schema.ts';
import { createLogger } from '../infrastructure/logger.ts';
import { checkpointMigrations, createCheckpoints, type Checkpoints } from '../infrastructure/postgres/checkpoints.ts';
import { createKnex, createPool } from '../infrastructure/postgres/database.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { createSnapshots, type Snapshots } from '../infrastructure/postgres/snapshots.ts';
import { onBenchDatabase } from './bench-database.ts';
import { buildDecidedLog } from './restart/decided-log.ts';

const numberFromEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};

const TRACKED_EVENTS = numberFromEnv('BENCH_TRACKED_EVENTS', 1_000_000);
const RESTARTS = numberFromEnv('BENCH_RESTARTS', 3);

const progress = (message: string): void => void process.stderr.write(`${message}\n`);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');

interface Timed {
  readonly seconds: number;
}

/** From the call that starts the engine until its book stands at the head of the log; then it is stopped (and saves its snapshot, if it keeps them). */
const timeStart = async (store: EventStore, checkpoints: Checkpoints, head: string, snapshots?: Snapshots): Promise<Timed> => {
  const fatal: unknown[] = [];
  const started = performance.now();
  const engine = await startRuleEngine({ store, checkpoints, clock: () => new Date(), logger, onFatal: (error) => void fatal.push(error), ...(snapshots ? { snapshots } : {}) });
  while (!isAtOrAfter(engine.position(), head) && fatal.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  const seconds = (performance.now() - started) / 1000;
  await engine.stop();
  if (fatal.length > 0) throw fatal[0];
  return { seconds };
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const benchmark = async (url: string, embedded: boolean): Promise<void> => {
  const knex = createKnex({ url, max: 4 });
  const pool = createPool({ url, max: 10 });
  const store = createPostgresEventStore({ connectionString: url, pool });
  try {
    await migrate(knex, 'tally_event_store_migrations', eventStoreMigrations);
    await migrate(knex, 'tally_checkpoint_migrations', checkpointMigrations);
    const checkpoints = createCheckpoints(knex);
    const snapshots = createSnapshots(knex);
    const version = (await knex.raw<{ rows: { v: string }[] }>('select current_setting(\'server_version\') as v')).rows[0]!.v;

    progress(`PostgreSQL ${version} (${embedded ? 'embedded' : 'DATABASE_URL'}): writing ${TRACKED_EVENTS.toLocaleString('en-US')} decided tracked events`);
    const building = performance.now();
    const log = await buildDecidedLog(store, TRACKED_EVENTS, progress);
    const buildSeconds = (performance.now() - building) / 1000;
    await knex.raw('vacuum (analyze) tally_events');
    await checkpoints.save(RULE_ENGINE_CHECKPOINT, log.head);
    const rowCount = async (): Promise<number> => Number((await knex.raw<{ rows: { n: string }[] }>('select count(*) as n from tally_events')).rows[0]!.n);
    if ((await rowCount()) !== log.events) throw new Error(`the log holds ${await rowCount()} events, ${log.events} were written`);
    progress(`  ${log.events.toLocaleString('en-US')} events in ${buildSeconds.toFixed(0)} s (${log.matches.toLocaleString('en-US')} matches, ${log.skipped.toLocaleString('en-US')} skipped); checkpoint at the head`);

    progress('before: folding the whole log, no snapshots');
    const before = await timeStart(store, checkpoints, log.head);
    progress(`  ${before.seconds.toFixed(2)} s`);
    progress('first start with snapshots: folding the whole log, saving snapshots on the way and at the end');
    const first = await timeStart(store, checkpoints, log.head, snapshots);
    progress(`  ${first.seconds.toFixed(2)} s`);
    const stored = await knex('tally_snapshots').where({ name: RULE_BOOK_SNAPSHOT }).first<{ position: string; bytes: number } | undefined>('position', knex.raw('octet_length(state::text) as bytes'));
    if (stored?.position !== log.head) throw new Error(`the snapshot is at ${stored?.position}, not at the head ${log.head}`);
    const restarts: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      progress(`after: restart ${i + 1} of ${RESTARTS}, from the snapshot at the head`);
      restarts.push((await timeStart(store, checkpoints, log.head, snapshots)).seconds);
      progress(`  ${restarts.at(-1)!.toFixed(3)} s`);
    }
    if ((await rowCount()) !== log.events) throw new Error('an engine appended to the log: it decided what was decided already');
    const after = median(restarts);

    const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
    console.log(`PostgreSQL ${version} (${embedded ? 'embedded' : 'DATABASE_URL'}); ${TRACKED_EVENTS.toLocaleString('en-US')} tracked events, ${log.events.toLocaleString('en-US')} events in the log (written in ${buildSeconds.toFixed(0)} s); 10 campaigns, 1,000 rules; snapshot ${mb(Number(stored.bytes))} MB of JSON\n`);
    console.log('| start of the rule engine | until caught up |');
    console.log('| --- | --- |');
    console.log(`| before: no snapshot, folds the whole log | ${before.seconds.toFixed(2)} s |`);
    console.log(`| first start with snapshots (folds the whole log, saves a snapshot every 100,000 events and at stop) | ${first.seconds.toFixed(2)} s |`);
    console.log(`| after: restart from the snapshot at the head (median of ${RESTARTS}: ${restarts.map((s) => s.toFixed(3)).join(', ')} s) | ${after.toFixed(3)} s |`);
    console.log(`| ratio before / after | ${(before.seconds / after).toFixed(0)}× |`);
  } finally {
    await store.close();
    await pool.end();
    await knex.destroy();
  }
};

await onBenchDatabase(logger, benchmark);

