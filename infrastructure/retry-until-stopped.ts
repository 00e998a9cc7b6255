import pRetry from 'p-retry';
import { errorText } from './error-text.ts';
import type { Logger } from './logger.ts';

/** Carries what a step threw past p-retry, which gives up at once on a TypeError or a thrown non-Error. */
class StepFailed extends Error {
  constructor(readonly thrown: unknown) {
    super(errorText(thrown));
  }
}

/** `step` for p-retry, so that whatever it throws is retried (a TypeError too). */
export const everyErrorRetried =
  <T>(step: () => Promise<T>) =>
  async (): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      throw new StepFailed(error);
    }
  };

const thrownBy = (error: unknown): unknown => (error instanceof StepFailed ? error.thrown : error);

/**
 * Workers (projector, reactors) must never skip an event because a dependency
 * is down: they retry the same step with backoff until it works or they stop.
 * Every error is retried, a TypeError too: a bug that odd data sets off is
 * better shown as a failing worker, stuck at that event (and fixed by a new
 * release), than a dead one. `onFailure` hears of each failed attempt (what
 * the step threw), to show the worker as failing. Rejects only once `signal`
 * aborts.
 */
export const retryUntilStopped = <T>(step: () => Promise<T>, signal: AbortSignal, logger: Logger, what: string, onFailure?: (error: unknown) => void): Promise<T> =>
  pRetry(
    everyErrorRetried(step),
    {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 100,
      maxTimeout: 5000,
      signal,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (signal.aborted) return; // stopping: not a failure worth a warning
        const thrown = thrownBy(error);
        logger.warn({ err: thrown, attemptNumber }, `${what} failed; retrying`);
        onFailure?.(thrown);
      },
    },
  );
