import type pg from 'pg';
import { percentile } from './load.ts';

/** One long-polled purchase of the latency step, in wall-clock milliseconds. */
export interface Timed {
  readonly id: string;
  readonly sentAt: number;
  readonly acceptedAt: number;
  readonly visibleAt: number;
}

export interface Hops {
  /** POST /events sent → its registration's transaction started (recorded_at). */
  readonly toRegistered: number[];
  /** Registration's transaction started → the 202 came back (the append's commit and the reply). */
  readonly toAccepted: number[];
  /** Registration's transaction started → the decision's transaction started: the rule engine's hop. */
  readonly toDecided: number[];
  /** Decision's transaction started → the long-poll answered: the projector's hop and the waiter's wake. */
  readonly toVisible: number[];
}

/**
 * Splits each latency into hops by the log's `recorded_at` (each append's
 * transaction start, on the same machine's clock as the client): where the
 * p99 goes, measured rather than guessed.
 */
export const measureHops = async (database: pg.Client, timed: readonly Timed[]): Promise<Hops> => {
  const { rows } = await database.query<{ stream_id: string; registered: Date; decided: Date }>(
    `select stream_id,
            min(recorded_at) filter (where type = 'EventRegistered') as registered,
            min(recorded_at) filter (where type in ('RuleMatched', 'EventSkipped')) as decided
       from tally_events where stream_id = any($1) group by stream_id`,
    [timed.map(({ id }) => `tracked-event-${id}`)],
  );
  const byStream = new Map(rows.map((row) => [row.stream_id, row]));
  const hops: Hops = { toRegistered: [], toAccepted: [], toDecided: [], toVisible: [] };
  for (const { id, sentAt, acceptedAt, visibleAt } of timed) {
    const row = byStream.get(`tracked-event-${id}`);
    if (!row?.registered || !row.decided) continue;
    const registered = row.registered.getTime();
    const decided = row.decided.getTime();
    hops.toRegistered.push(registered - sentAt);
    hops.toAccepted.push(acceptedAt - registered);
    hops.toDecided.push(decided - registered);
    hops.toVisible.push(visibleAt - decided);
  }
  for (const list of Object.values(hops)) list.sort((a: number, b: number) => a - b);
  return hops;
};

export const describeHops = (hops: Hops): string =>
  Object.entries(hops)
    .map(([name, list]: [string, number[]]) => `  ${name.padEnd(13)} p50 ${percentile(list, 50).toFixed(1).padStart(6)}  p95 ${percentile(list, 95).toFixed(1).padStart(6)}  p99 ${percentile(list, 99).toFixed(1).padStart(6)} ms`)
    .join('\n');
