import { schedule } from 'node-cron';
import { earningDecider } from '../../domain/earning/earning-decider.ts';
import { EARNING_EVENT_TYPES, earningStream, type EarningEvent } from '../../domain/earning/earning-events.ts';
import { approvedOnGrant, approvesAtOf } from '../../domain/earning/hold.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventMetadata, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { sleep } from '../../infrastructure/sleep.ts';
import { handleCommand } from '../command-handler.ts';
import type { RunningReactor } from './rule-engine.ts';
import { causedBy } from './caused-by.ts';

/** Its row on /health: it keeps no checkpoint (it folds the log from the start), so its position is the subscription's. */
export const EARNING_APPROVALS_SUBSCRIBER = 'reactor:earning-approvals';

export interface EarningApprovalsOptions {
  readonly store: EventStore;
  /** Injected so that tests move time instead of waiting for it. */
  readonly clock: () => Date;
  readonly logger: Logger;
  /** node-cron expression of the checks for due approvals; every second by default. Null: only `tick()`. */
  readonly cron?: string | null;
  readonly board?: StatusBoard;
}

export interface EarningApprovals extends RunningReactor {
  /** Approves every pending earning whose approvesAt has come; resolves when they are appended. */
  tick(): Promise<void>;
  /** Resolves once the reactor has seen the log up to `position`. */
  caughtUpTo(position: string): Promise<void>;
}

interface Pending {
  readonly approvesAt: number;
  /** The grant's, so that the approval names what caused it. */
  readonly metadata: EventMetadata;
}

/**
 * Ends earnings' holds. It folds every earning stream from the start of the
 * log, so the due times (approvesAt, in EarningGranted) survive restarts: a
 * hold that ended while no instance ran is approved on the first tick after
 * the start. A node-cron tick approves what is due through the earning
 * decider, appended guarded by the revision read: a second instance, or a
 * replay, finds the earning approved already and appends nothing.
 */
export const startEarningApprovals = async ({ store, clock, logger, cron = '* * * * * *', board }: EarningApprovalsOptions): Promise<EarningApprovals> => {
  const log = logger.child({ role: 'earning-approvals' });
  const stopping = new AbortController();
  const pending = new Map<string, Pending>();
  const head = await retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log');
  const subscription = store.subscribeToAll({ filter: { eventTypes: EARNING_EVENT_TYPES } });
  const caughtUp = (): boolean => head === undefined || isAtOrAfter(subscription.position(), head);
  const tracker = board?.track(EARNING_APPROVALS_SUBSCRIBER, () => subscription.position());
  tracker?.caughtUpAt(head);
  /** What keeps failing, by earning: the reactor is well again only once none does. */
  const broken = new Map<string, unknown>();

  const following = (async () => {
    for await (const recorded of subscription) {
      const event = asDomainEvent<EarningEvent>(recorded);
      if (event.type === 'EarningGranted') {
        // A grant with no hold is approved by itself: nothing is due for it.
        if (!approvedOnGrant(event.data)) {
          pending.set(event.data.earningId, {
            approvesAt: Date.parse(approvesAtOf(event.data)),
            metadata: causedBy(recorded, 'earning-approvals'),
          });
        }
      } else if (event.type === 'EarningApproved' || event.data.remaining <= 0) {
        // Approved, or reversed in full (nothing left to approve); a partial reversal leaves the rest to approve.
        pending.delete(event.data.earningId);
        // Approved, whoever recorded it: nothing of it is left to fail.
        broken.delete(event.data.earningId);
      }
      if (broken.size === 0) tracker?.progressed();
    }
  })().catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    log.error({ err: error }, 'earning approvals stopped following the log');
    // For good: new grants go unseen until a restart, which /health must say.
    broken.set('', error);
    tracker?.failing(error, subscription.position());
  });

  const approve = async (earningId: string, { metadata }: Pending, now: Date): Promise<void> => {
    try {
      const { events } = await handleCommand(store, earningStream(earningId), earningDecider, { type: 'ApproveEarning', data: { now: now.toISOString() } }, { metadata });
      // Asked only once due, so an empty decision means approved already (by another instance, or before a restart): done either way.
      pending.delete(earningId);
      if (events.length > 0) log.info({ earningId }, 'earning approved');
      if (broken.delete(earningId) && broken.size === 0) tracker?.progressed();
    } catch (error) {
      log.warn({ err: error, earningId }, 'approving an earning failed; the next tick tries again');
      broken.set(earningId, error);
      tracker?.failing(error, undefined);
    }
  };

  let ticking: Promise<void> | undefined;
  const tick = (): Promise<void> =>
    (ticking ??= (async () => {
      // Not before the fold has reached the head as it was at start: until then, approvals still to be folded would make it read streams for nothing.
      if (!caughtUp()) return;
      const now = clock();
      for (const [earningId, due] of pending) {
        if (stopping.signal.aborted) return;
        if (due.approvesAt <= now.getTime()) await approve(earningId, due, now);
      }
    })().finally(() => (ticking = undefined)));

  const task = cron === null ? undefined : schedule(cron, () => tick(), { noOverlap: true, name: 'earning-approvals' });
  log.info('earning approvals started');

  return {
    tick,
    async caughtUpTo(position) {
      while (!isAtOrAfter(subscription.position(), position)) await sleep(5);
    },
    async stop() {
      stopping.abort();
      await task?.destroy();
      await subscription.close();
      await following;
      await ticking;
      tracker?.untrack();
    },
  };
};
