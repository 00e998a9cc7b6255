import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runFor } from '../measure.ts';

/**
 * The physical limit, in the same run: the rows one tracked event becomes
 * (its registration, its decision and its earning in the log, its read-model
 * row and its earning row), written as plain single-row INSERTs in autocommit,
 * from `concurrency` connections, into copies of the app's own tables.
 */
export const rawTrackedEventsPerSecond = async (databaseUrl: string, seconds: number, concurrency: number, document: () => object): Promise<number> => {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
  try {
    await pool.query(`
      create table raw_events (like tally_events including all);
      create table raw_tracked_events (like rm_tracked_events including all);
      create table raw_earnings (like rm_earnings including all);
    `);
    const insertEvent = (stream: string, type: string, data: object) =>
      pool.query(`insert into raw_events (epoch, stream_id, revision, event_id, type, data, metadata) values (0, $1, $2, $3, $4, $5, '{"actor":"bench"}')`, [
        stream, type === 'EventRegistered' ? 0 : 1, randomUUID(), type, JSON.stringify(data),
      ]);
    const one = async (): Promise<number> => {
      const id = randomUUID();
      const doc = document();
      await insertEvent(`tracked-event-${id}`, 'EventRegistered', { eventId: id, document: doc });
      await insertEvent(`tracked-event-${id}`, 'RuleMatched', { eventId: id, ruleId: 'r', earningId: id, amount: 100 });
      await insertEvent(`earning-${id}`, 'EarningGranted', { earningId: id, eventId: id, amount: 100 });
      await pool.query(
        `insert into raw_tracked_events (id, type, occurred_at, registered_at, document, status, matched_rule_ids, earnings, position)
         values ($1, 'purchase', now(), now(), $2, 'processed', '{r}', '[]', '0')`,
        [id, JSON.stringify(doc)],
      );
      await pool.query(
        `insert into raw_earnings (id, event_id, campaign_id, rule_id, beneficiary_id, amount, currency, status, granted_at)
         values ($1, $1, 'c', 'r', 'b', 1, 'EUR', 'granted', now())`,
        [id],
      );
      return 1;
    };
    const { perSecond } = await runFor(seconds, concurrency, one);
    return perSecond;
  } finally {
    await pool.query('drop table if exists raw_events, raw_tracked_events, raw_earnings').catch(() => undefined);
    await pool.end();
  }
};
