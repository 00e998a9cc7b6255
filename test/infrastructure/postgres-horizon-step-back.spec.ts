import { expect } from 'chai';
import pg from 'pg';
import type { EventStore, Subscription, SubscriptionFilter } from '../../infrastructure/event-store/event-store.ts';
import { decodePosition } from '../../infrastructure/event-store/postgres/position.ts';
import { sleep } from '../../infrastructure/sleep.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { createTestDatabase } from '../support/test-database.ts';

type Query = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/** The numbers of the events delivered, up to the one numbered `last`: a skip shows as missing numbers, not as a hang. */
const numbersUntil = async (subscription: Subscription, last: number): Promise<number[]> => {
  const seen: number[] = [];
  for await (const event of subscription) {
    if (event.type !== 'Numbered') continue;
    seen.push(event.data.n as number);
    if (event.data.n === last) break;
  }
  await subscription.close();
  return seen;
};

/** Hands the pool's next read of the log after `position` to `instead`: the first read of a subscriber starting there. */
const replaceNextReadAfter = (pool: pg.Pool, position: string, instead: (query: Query, text: string, values?: unknown[]) => Promise<pg.QueryResult>): void => {
  const { epoch, transactionId, globalPosition } = decodePosition(position);
  const key = JSON.stringify([epoch, transactionId, globalPosition]);
  const query = pool.query.bind(pool) as Query;
  const replaced: Query = (text, values) => {
    if (typeof text !== 'string' || !text.includes('tally_visible_before') || JSON.stringify(values?.slice(0, 3)) !== key) return query(text, values);
    pool.query = query as unknown as typeof pool.query;
    return instead(query, text, values);
  };
  pool.query = replaced as unknown as typeof pool.query;
};

/**
 * One round: transactions of another database take ids and stay open, then
 * events are appended (with higher ids). A live subscriber brings the tail to
 * the head, where a tail of capacity 1 holds the last event only.
 */
const appendBehindOpenTransactions = async (store: EventStore, round: number, foreign: readonly pg.Client[]) => {
  const from = (await store.headPosition())!;
  const numbers = Array.from({ length: 6 }, (_, i) => round * 6 + i);
  const quick = numbersUntil(store.subscribeToAll({ fromPosition: from }), numbers.at(-1)!);
  const ids = await Promise.all(
    foreign.map(async (client) => {
      await client.query('begin');
      const { rows } = await client.query<{ x: string }>('select pg_current_xact_id()::text as x');
      return BigInt(rows[0]!.x);
    }),
  );
  for (const n of numbers) await store.appendToStream(`s-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' });
  expect(await quick).to.deep.equal(numbers);
  return { from, numbers, last: numbers.at(-1)!, ids };
};

const filterOf = (round: number): SubscriptionFilter | undefined => (round % 2 === 1 ? { eventTypes: ['Numbered'] } : undefined);

/**
 * Regression (a2bc056): a subscriber behind the process's tail whose own page
 * came back empty used to jump to where the tail starts. But the horizon
 * (visibility.ts) can step back for a moment: a transaction that appends
 * nothing, has an id, and ends between a reader's snapshot and its status
 * checks becomes that read's horizon, below events that are committed and
 * already held in the tail. The jump passed over them.
 */
describe('PostgreSQL event store: a subscriber behind the tail while the horizon steps back', function () {
  this.timeout(30_000);

  let underTest: Awaited<ReturnType<typeof createPostgresStoreForTest>>;
  let elsewhere: Awaited<ReturnType<typeof createTestDatabase>>;
  let foreign: pg.Client[] = [];

  /** `count` sessions in another database of the cluster: their transactions have nothing to do with the log. */
  const connectElsewhere = async (count: number): Promise<pg.Client[]> => {
    elsewhere = await createTestDatabase();
    foreign = Array.from({ length: count }, () => new pg.Client({ connectionString: elsewhere.url }));
    await Promise.all(foreign.map((client) => client.connect()));
    return foreign;
  };

  beforeEach(async () => {
    // A tail of one event: any subscriber more than one event behind reads its own pages.
    underTest = await createPostgresStoreForTest({ tailCapacity: 1 });
    await underTest.store.appendToStream('start', [{ type: 'Start', data: {} }], { expectedRevision: 'no_stream' });
  });

  afterEach(async () => {
    await Promise.all(foreign.map((client) => client.end()));
    foreign = [];
    await elsewhere?.drop();
    await underTest.stop();
  });

  it('delivers every event once, in order, when a transaction ends between its snapshot and its checks', async () => {
    const { store, pool } = underTest;
    const [x] = await connectElsewhere(1);
    for (let round = 0; round < 3; round++) {
      const { from, numbers, last, ids } = await appendBehindOpenTransactions(store, round, [x!]);
      // The race on cue: the read takes its snapshot, x commits, then the read goes on with that
      // snapshot (a repeatable-read transaction keeps it). In the wild the window is microseconds.
      let horizon: bigint | undefined;
      replaceNextReadAfter(pool, from, async (_query, text, values) => {
        const client = await pool.connect();
        try {
          await client.query('begin isolation level repeatable read');
          await client.query('select pg_current_snapshot()');
          await x!.query('commit');
          const result = await client.query(text, values);
          const { rows } = await client.query<{ horizon: string }>('select tally_visible_before()::text as horizon');
          horizon = BigInt(rows[0]!.horizon);
          await client.query('commit');
          return result;
        } finally {
          client.release();
        }
      });
      const lagging = await numbersUntil(store.subscribeToAll({ fromPosition: from, filter: filterOf(round) }), last);
      // The step back happened: that read's horizon was below every event of the round, all committed.
      expect(horizon !== undefined && horizon <= ids[0]!, `horizon ${horizon} at or below ${ids[0]}`).to.equal(true);
      expect(lagging, `round ${round}`).to.deep.equal(numbers);
    }
  });

  it('delivers every event once, in order, while foreign transactions commit as it reads', async function () {
    const { store, pool } = underTest;
    await connectElsewhere(10);
    // Each round lets ten transactions commit around one read: about one round in ten, one lands in its window.
    let stepBacks = 0;
    const deadline = Date.now() + 6_000;
    for (let round = 0; stepBacks < 5 && Date.now() < deadline; round++) {
      const { from, numbers, last } = await appendBehindOpenTransactions(store, round, foreign);
      let commits: Promise<unknown> | undefined;
      replaceNextReadAfter(pool, from, async (query, text, values) => {
        commits = Promise.all(
          foreign.map(async (client) => {
            if (Math.random() < 0.5) await sleep(1);
            await client.query('commit');
          }),
        );
        const result = await query(text, values);
        // Nothing after `from`, though every event of the round is committed: the horizon stepped back.
        if (result.rows.length === 0) stepBacks++;
        return result;
      });
      const lagging = await numbersUntil(store.subscribeToAll({ fromPosition: from, filter: filterOf(round) }), last);
      await (commits ?? Promise.all(foreign.map((client) => client.query('commit'))));
      expect(lagging, `round ${round}`).to.deep.equal(numbers);
    }
    // Otherwise the race never happened, and the rounds above showed nothing: said as a skip, not a pass
    // (the test above forces the race; this one shows it as it comes, where timing allows).
    if (stepBacks === 0) this.skip();
  });
});
