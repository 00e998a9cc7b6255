import type { Knex } from 'knex';
import { inBatches } from '../infrastructure/event-store/batches.ts';
import { isAtOrAfter, type EventStore, type RecordedEvent, type Subscription } from '../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../infrastructure/event-store/handled-position.ts';
import type { Checkpoints } from '../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard } from '../infrastructure/postgres/subscriber-status.ts';
import type { Logger } from '../infrastructure/logger.ts';
import { retryUntilStopped } from '../infrastructure/retry-until-stopped.ts';
import type { Projection } from './projection.ts';
import { READ_MODELS_CHANNEL } from './read-models-channel.ts';

export interface ProjectorOptions {
  readonly store: EventStore;
  readonly knex: Knex;
  readonly checkpoints: Checkpoints;
  readonly projections: readonly Projection[];
  readonly logger: Logger;
  /** Where each projection's state is shown to /health; none in some tests. */
  readonly board?: StatusBoard;
  readonly batchSize?: number;
  /** How long a batch waits for more events after its first (inBatches). */
  readonly batchLingerMs?: number;
  /** Called when a projection cannot go on: its subscription failed (what fails in applying events is retried). */
  readonly onFatal: (error: unknown) => void;
}

export interface RunningProjector {
  stop(): Promise<void>;
}

/** Thrown to roll back a batch whose events another attempt or projector has applied. */
const ALREADY_APPLIED = Symbol('already applied');

export const projectionCheckpoint = (projection: Projection): string => `projection:${projection.name}`;

/**
 * One subscription per projection, from its own checkpoint. A batch runs in
 * one transaction that first locks and moves the checkpoint, then applies only
 * the events after where it was: a batch retried after a lost COMMIT reply, or run
 * at once by a second projector, applies nothing twice. The commit is
 * announced on READ_MODELS_CHANNEL. A failing batch is retried, whatever the
 * error (an outage, or a bug on odd data that a new release fixes), never
 * skipped, and the projection shows as failing meanwhile.
 */
export const startProjector = async ({ store, knex, checkpoints, projections, logger, board, onFatal, batchSize = 500, batchLingerMs = 0 }: ProjectorOptions): Promise<RunningProjector> => {
  const stopping = new AbortController();
  const subscriptions: Subscription[] = [];

  const run = async (projection: Projection): Promise<void> => {
    const log = logger.child({ role: 'projector', projection: projection.name });
    const name = projectionCheckpoint(projection);
    const fromPosition = await retryUntilStopped(() => checkpoints.load(name), stopping.signal, log, 'loading the checkpoint');
    if (stopping.signal.aborted) return;
    const subscription = store.subscribeToAll({ fromPosition, filter: { eventTypes: projection.eventTypes } });
    subscriptions.push(subscription);
    const progress = trackHandled(subscription, fromPosition);
    const tracker = board?.track(name, progress.position);
    void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);
    try {
      for await (const batch of inBatches(progress.events, batchSize, batchLingerMs)) {
        // The batch goes in whole; once it has failed, its retries apply it one event at a time (in one
        // transaction still), so that the event that fails is known: that is where it is stuck.
        let oneByOne = false;
        /** The event being applied one by one when the attempt failed. */
        let failed: RecordedEvent | undefined;
        const last = batch[batch.length - 1]!.position;
        const step = () =>
          knex
            .transaction(async (trx) => {
              failed = undefined;
              // Locked and moved first, in one statement: the events after where it was are this batch's to apply.
              const done = await checkpoints.advance(name, last, trx, { channel: READ_MODELS_CHANNEL, payload: projection.name });
              const fresh = batch.filter((event) => !isAtOrAfter(done, event.position));
              if (fresh.length === 0) throw ALREADY_APPLIED;
              if (!oneByOne) await projection.applyBatch(trx, fresh);
              else {
                for (const event of fresh) {
                  failed = event;
                  await projection.applyBatch(trx, [event]);
                }
                failed = undefined;
              }
            })
            .catch((error: unknown) => {
              // Rolled back: the checkpoint stays where it was, past this whole batch.
              if (error !== ALREADY_APPLIED) throw error;
            });
        await retryUntilStopped(step, stopping.signal, log, 'projecting a batch', (error) => {
          oneByOne = true;
          tracker?.failing(error, (failed ?? batch[0]!).position);
        });
        progress.handled(batch[batch.length - 1]!.position);
        tracker?.progressed();
      }
    } finally {
      tracker?.untrack();
    }
  };

  const running = projections.map((projection) =>
    run(projection).catch((error: unknown) => {
      if (stopping.signal.aborted) return;
      logger.fatal({ err: error, projection: projection.name }, 'projection stopped');
      onFatal(error);
    }),
  );
  return {
    stop: async () => {
      stopping.abort();
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      await Promise.all(running);
    },
  };
};
