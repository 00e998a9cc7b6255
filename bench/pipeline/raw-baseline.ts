import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runFor } from '../measure.ts';

/**
 * The physical limit, in the same run: the rows one tracked event becomes
 * (its registration and its decision in the log, and per match a RuleMatched
 * and an EarningGranted, its read-model row and per match an earning row and
 * its first history row; not the campaign totals, one row per campaign that
 * single-row writes from 32 connections would only queue on),
 * written as plain single-row INSERTs in autocommit, from `concurrency`
 * connections, into copies of the app's own tables. `matchesPerEvent` is what
 * the app's run gave on average (a tracked event matches in several campaigns
 * or none), so that both sides write the same rows.
 */
export const rawTrackedEventsPerSecond = async (databaseUrl: string, seconds: number, concurrency: number, document: () => object, matchesPerEvent: number): Promise<number> => {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
  try {
    await pool.query(`
      create table raw_events (like tally_events including all);
      create table raw_tracked_events (like rm_tracked_events including all);
      create table raw_earnings (like rm_earnings including all);
      create table raw_earning_history (like rm_earning_history including all);
    `);
    const insertEvent = (stream: string, type: string, data: object) =>
      pool.query(`insert into raw_events (epoch, stream_id, revision, event_id, type, data, metadata) values (0, $1, $2, $3, $4, $5, '{"actor":"bench"}')`, [
        stream, type === 'EventRegistered' ? 0 : 1, randomUUID(), type, JSON.stringify(data),
      ]);
    const one = async (): Promise<number> => {
      const id = randomUUID();
      const doc = document();
      await insertEvent(`tracked-event-${id}`, 'EventRegistered', { eventId: id, document: doc });
      // The average, as whole matches: the fraction decides, by chance, whether one more.
      const matches = Math.floor(matchesPerEvent) + (Math.random() < matchesPerEvent % 1 ? 1 : 0);
      if (matches === 0) await insertEvent(`tracked-event-${id}`, 'EventSkipped', { eventId: id, reasons: [{ campaignId: 'c', reason: 'no rule matched' }] });
      for (let match = 0; match < matches; match++) {
        const earningId = randomUUID();
        await insertEvent(`tracked-event-${id}`, 'RuleMatched', { eventId: id, ruleId: 'r', earningId, amount: 100 });
        await insertEvent(`earning-${earningId}`, 'EarningGranted', { earningId, eventId: id, amount: 100 });
        await pool.query(
          `insert into raw_earnings (id, event_id, campaign_id, rule_id, beneficiary_id, amount, currency, status, granted_at, approves_at, approved_at)
           values ($1, $2, 'c', 'r', 'b', 1, 'EUR', 'approved', now(), now(), now())`,
          [earningId, id],
        );
        await pool.query(`insert into raw_earning_history (earning_id, revision, kind, amount, at) values ($1, 0, 'granted', 1, now())`, [earningId]);
      }
      await pool.query(
        `insert into raw_tracked_events (id, type, occurred_at, registered_at, document, status, matched_rule_ids, earnings, position)
         values ($1, 'purchase', now(), now(), $2, 'processed', '{r}', '[]', '0')`,
        [id, JSON.stringify(doc)],
      );
      return 1;
    };
    const { perSecond } = await runFor(seconds, concurrency, one);
    return perSecond;
  } finally {
    await pool.query('drop table if exists raw_events, raw_tracked_events, raw_earnings, raw_earning_history').catch(() => undefined);
    await pool.end();
  }
};
