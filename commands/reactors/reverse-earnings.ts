import { fold } from '../../domain/decider.ts';
import { earningDecider, type EarningState } from '../../domain/earning/earning-decider.ts';
import { earningStream, type EarningEvent } from '../../domain/earning/earning-events.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { ConcurrencyError, type EventMetadata, type EventStore, type EventToAppend, type StreamAppend } from '../../infrastructure/event-store/event-store.ts';
import { readDomainEvents } from '../command-handler.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { causedBy } from './caused-by.ts';

/** One earning to take back part of, because of one refund. */
export interface ReversalOrder {
  /** The refund's decision (RefundApplied), which the reversal names as its cause. */
  readonly cause: { readonly id: string; readonly metadata: EventMetadata };
  readonly refundEventId: string;
  readonly earningId: string;
  readonly amount: number;
  readonly reason: string;
}

/** Streams read at once: enough to hide the round trips, few enough to leave the pool to others. */
const READS_AT_ONCE = 16;

/**
 * Appends the reversals of a batch of refunds through the earning decider:
 * each earning stream is read (READS_AT_ONCE at a time), every reversal of it
 * decided in order against its state, and all of them appended in one
 * `appendToStreams`, each guarded by the revision read. A refund reverses an
 * earning once only, so a repeat (a restart, a lost reply) appends nothing;
 * an earning that another writer moved meanwhile (an approval) is read and
 * decided again. An earning with no grant yet is left as it is: `ungranted`
 * names the refunds that reversed such an earning, for the caller to try again
 * once the grant is there, or to report.
 */
export const reverseEarnings = async (store: EventStore, orders: readonly ReversalOrder[], now: () => string, log: Logger, actor: string): Promise<{ ungranted: Set<string> }> => {
  const byEarning = new Map<string, ReversalOrder[]>();
  const ungranted = new Set<string>();
  for (const order of orders) {
    const same = byEarning.get(order.earningId);
    if (same) same.push(order);
    else byEarning.set(order.earningId, [order]);
  }

  const decide = async (earningId: string): Promise<StreamAppend | undefined> => {
    const { events: past, last } = await readDomainEvents<EarningEvent>(store, earningStream(earningId));
    if (!last) {
      for (const order of byEarning.get(earningId)!) ungranted.add(order.refundEventId);
      return undefined;
    }
    let state: EarningState = fold(earningDecider, past);
    const events: EventToAppend[] = [];
    for (const { cause, refundEventId, amount, reason } of byEarning.get(earningId)!) {
      for (const event of earningDecider.decide({ type: 'ReverseEarning', data: { refundEventId, amount, reason, now: now() } }, state)) {
        state = earningDecider.evolve(state, event);
        events.push(toEventToAppend(event, causedBy(cause, actor)));
      }
    }
    return events.length > 0 ? { streamId: earningStream(earningId), events, expectedRevision: last.revision } : undefined;
  };

  let todo = [...byEarning.keys()];
  while (todo.length > 0) {
    const decided: { earningId: string; append: StreamAppend }[] = [];
    for (let start = 0; start < todo.length; start += READS_AT_ONCE) {
      const chunk = todo.slice(start, start + READS_AT_ONCE);
      (await Promise.all(chunk.map(decide))).forEach((append, index) => append && decided.push({ earningId: chunk[index]!, append }));
    }
    if (decided.length === 0) break;
    const results = await store.appendToStreams(decided.map(({ append }) => append));
    todo = [];
    results.forEach((result, index) => {
      if (result.ok) return;
      const { earningId } = decided[index]!;
      if (result.error instanceof ConcurrencyError) return void todo.push(earningId);
      // A few hundred bytes per reversal: only a store configured absurdly small refuses them, and it always would.
      log.error({ err: result.error, earningId }, 'the reversal is too large for the event store; passed');
    });
  }
  return { ungranted };
};
