import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import type { HandledPosition } from '../../infrastructure/event-store/handled-position.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { SubscriberTracker } from '../../infrastructure/postgres/subscriber-status.ts';

export interface HandleEachOptions {
  readonly progress: HandledPosition;
  readonly tracker: SubscriberTracker | undefined;
  /** Settles once the event's effects are done (and retried until they are, or stopping). */
  readonly handle: (recorded: RecordedEvent) => Promise<void>;
  readonly stopping: AbortSignal;
  readonly log: Logger;
  readonly onFatal: (error: unknown) => void;
}

/**
 * A reactor's loop for events handled one at a time, in log order: each is
 * marked handled (for /health) once its effects are done. Only the
 * subscription itself failing ends it, as fatal; what fails in `handle` is
 * retried there, never skipped.
 */
export const handleEachInTurn = ({ progress, tracker, handle, stopping, log, onFatal }: HandleEachOptions): Promise<void> =>
  (async () => {
    for await (const recorded of progress.events) {
      await handle(recorded);
      progress.handled(recorded.position);
      tracker?.progressed();
    }
  })().catch((error: unknown) => {
    if (stopping.aborted) return;
    log.fatal({ err: error }, 'reactor stopped');
    onFatal(error);
  });
