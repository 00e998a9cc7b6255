import type { Knex } from 'knex';
import { inBatches } from '../infrastructure/event-store/batches.ts';
import type { EventStore, Subscription } from '../infrastructure/event-store/event-store.ts';
import type { Checkpoints } from '../infrastructure/postgres/checkpoints.ts';
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
  readonly batchSize?: number;
  /** Called when a projection cannot go on (a bug, not an outage: outages are retried). */
  readonly onFatal: (error: unknown) => void;
}

export interface RunningProjector {
  stop(): Promise<void>;
}

export const projectionCheckpoint = (projection: Projection): string => `projection:${projection.name}`;

/**
 * One subscription per projection, from its own checkpoint. Each batch and the
 * checkpoint that covers it commit together, and the commit is announced on
 * READ_MODELS_CHANNEL. A failing batch is retried whole, never skipped.
 */
export const startProjector = async ({ store, knex, checkpoints, projections, logger, onFatal, batchSize = 500 }: ProjectorOptions): Promise<RunningProjector> => {
  const stopping = new AbortController();
  const subscriptions: Subscription[] = [];

  const run = async (projection: Projection): Promise<void> => {
    const log = logger.child({ role: 'projector', projection: projection.name });
    const name = projectionCheckpoint(projection);
    const fromPosition = await retryUntilStopped(() => checkpoints.load(name), stopping.signal, log, 'loading the checkpoint');
    if (stopping.signal.aborted) return;
    const subscription = store.subscribeToAll({ fromPosition, filter: { eventTypes: projection.eventTypes } });
    subscriptions.push(subscription);
    for await (const batch of inBatches(subscription, batchSize)) {
      const step = () =>
        knex.transaction(async (trx) => {
          for (const event of batch) await projection.apply(trx, event);
          await checkpoints.save(name, batch[batch.length - 1]!.position, trx);
          await trx.raw('select pg_notify(?, ?)', [READ_MODELS_CHANNEL, projection.name]);
        });
      await retryUntilStopped(step, stopping.signal, log, 'projecting a batch');
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
