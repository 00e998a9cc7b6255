import type { Knex } from 'knex';
import { inBatches } from '../infrastructure/event-store/batches.ts';
import { isAtOrAfter, type EventStore, type RecordedEvent, type Subscription } from '../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../infrastructure/event-store/handled-position.ts';
import type { Checkpoints } from '../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard, SubscriberTracker } from '../infrastructure/postgres/subscriber-status.ts';
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
  /** Called when a projection cannot go on (a bug, not an outage: outages are retried). */
  readonly onFatal: (error: unknown) => void;
}

export interface RunningProjector {
  stop(): Promise<void>;
}

export const projectionCheckpoint = (projection: Projection): string => `projection:${projection.name}`;

/** Failed attempts of a batch, together, before the projections try it one by one to find which fails. */
const ATTEMPTS_BEFORE_SPLITTING = 3;

/** The further of two positions (undefined is the start of the log). */
const further = (a: string | undefined, b: string | undefined): string | undefined => (isAtOrAfter(a, b ?? '') ? a : b);

/**
 * All projections follow the log together, on one subscription from the
 * earliest of their checkpoints, and a batch is one transaction for all of
 * them: it locks their checkpoints, applies to each only the events of its
 * types after its own checkpoint, moves them all to the batch's end, and
 * announces the commit on READ_MODELS_CHANNEL. A batch retried after a lost
 * COMMIT reply, or run at once by a second projector, applies nothing twice.
 *
 * A failing batch is retried, whatever the error (an outage, or a bug on odd
 * data that a new release fixes), never skipped, and shows as failing. When
 * some projections keep failing it (three attempts) and others do not, the
 * others apply it on their own and go on together; each failing one leaves the group and runs alone
 * from its checkpoint, stuck and shown failing at the event it cannot apply,
 * so that one broken read model never stops the rest.
 */
export const startProjector = async ({ store, knex, checkpoints, projections, logger, board, onFatal, batchSize = 500 }: ProjectorOptions): Promise<RunningProjector> => {
  const stopping = new AbortController();
  const subscriptions: Subscription[] = [];
  const running: Promise<void>[] = [];

  /** One transaction: the members' checkpoints locked, their fresh events applied, the checkpoints moved. */
  const apply = (members: readonly Projection[], batch: readonly RecordedEvent[], oneByOne: boolean, failedAt: { event?: RecordedEvent }) =>
    knex.transaction(async (trx) => {
      failedAt.event = undefined;
      const names = members.map(projectionCheckpoint);
      const done = await checkpoints.lockMany(names, trx);
      const last = batch[batch.length - 1]!.position;
      const changed: string[] = [];
      for (const projection of members) {
        const after = done.get(projectionCheckpoint(projection));
        const types = new Set(projection.eventTypes);
        const fresh = batch.filter((event) => types.has(event.type) && !isAtOrAfter(after, event.position));
        if (fresh.length === 0) continue;
        changed.push(projection.name);
        if (!oneByOne) await projection.applyBatch(trx, fresh);
        else {
          // Retries go one event at a time (in this transaction still), so that the event that fails is known.
          for (const event of fresh) {
            failedAt.event = event;
            await projection.applyBatch(trx, [event]);
          }
          failedAt.event = undefined;
        }
      }
      const behind = names.filter((name) => !isAtOrAfter(done.get(name), last));
      if (behind.length > 0) await checkpoints.saveMany(behind, last, trx);
      if (changed.length > 0) await trx.raw('select pg_notify(?, ?)', [READ_MODELS_CHANNEL, changed.join(',')]);
    });

  const run = async (initial: readonly Projection[]): Promise<void> => {
    let members = [...initial];
    const log = logger.child({ role: 'projector', projections: members.map((projection) => projection.name) });
    const starts = new Map<string, string | undefined>();
    for (const projection of members) {
      const name = projectionCheckpoint(projection);
      starts.set(name, await retryUntilStopped(() => checkpoints.load(name), stopping.signal, log, 'loading the checkpoint'));
      if (stopping.signal.aborted) return;
    }
    const fromPosition = [...starts.values()].reduce((earliest, start) => (isAtOrAfter(start, earliest ?? '') ? earliest : start));
    const subscription = store.subscribeToAll({ fromPosition, filter: { eventTypes: [...new Set(members.flatMap((projection) => projection.eventTypes))] } });
    subscriptions.push(subscription);
    const progress = trackHandled(subscription, fromPosition);
    const trackers = new Map<Projection, SubscriberTracker | undefined>(
      members.map((projection) => {
        const name = projectionCheckpoint(projection);
        return [projection, board?.track(name, () => further(progress.position(), starts.get(name)))];
      }),
    );
    void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then(
      (head) => trackers.forEach((tracker) => tracker?.caughtUpAt(head)),
      () => undefined,
    );

    /** Leaves the group: runs alone from its checkpoint, where its failure shows. */
    const detach = (projection: Projection, error: unknown): void => {
      log.warn({ err: error, projection: projection.name }, 'a projection fails where the others do not; it goes on alone');
      members = members.filter((member) => member !== projection);
      trackers.get(projection)?.untrack();
      trackers.delete(projection);
      running.push(runAlone(projection));
    };

    try {
      for await (const batch of inBatches(progress.events, batchSize)) {
        if (members.length === 0) break;
        let oneByOne = false;
        let failures = 0;
        const failedAt: { event?: RecordedEvent } = {};
        const step = async (): Promise<void> => {
          try {
            await apply(members, batch, oneByOne, failedAt);
          } catch (error) {
            // A lost connection or a lock timeout passes: the group is only split when failures persist.
            if (members.length === 1 || ++failures < ATTEMPTS_BEFORE_SPLITTING) throw error;
            // Which of them fails it? Each tries alone; if all fail, it is an outage most likely: retried together.
            const outcomes: { projection: Projection; error?: unknown }[] = [];
            for (const projection of members) {
              outcomes.push(await apply([projection], batch, false, {}).then(() => ({ projection }), (alone: unknown) => ({ projection, error: alone ?? error })));
            }
            const failing = outcomes.filter((outcome) => 'error' in outcome);
            if (failing.length === outcomes.length) throw error;
            for (const outcome of failing) detach(outcome.projection, outcome.error);
          }
        };
        await retryUntilStopped(step, stopping.signal, log, 'projecting a batch', (error) => {
          oneByOne = true;
          for (const tracker of trackers.values()) tracker?.failing(error, (failedAt.event ?? batch[0]!).position);
        });
        progress.handled(batch[batch.length - 1]!.position);
        for (const tracker of trackers.values()) tracker?.progressed();
      }
    } finally {
      for (const tracker of trackers.values()) tracker?.untrack();
    }
  };

  const runAlone = (projection: Projection): Promise<void> =>
    run([projection]).catch((error: unknown) => {
      if (stopping.signal.aborted) return;
      logger.fatal({ err: error, projection: projection.name }, 'projection stopped');
      onFatal(error);
    });

  running.push(
    run(projections).catch((error: unknown) => {
      if (stopping.signal.aborted) return;
      logger.fatal({ err: error }, 'projector stopped');
      onFatal(error);
    }),
  );
  return {
    stop: async () => {
      stopping.abort();
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      // Projections that left the group while stopping are in `running` too.
      for (let awaited = 0; awaited < running.length; awaited = running.length) await Promise.all(running.slice(awaited));
    },
  };
};
