import pRetry from 'p-retry';
import type { Logger } from './logger.ts';

/**
 * Workers (projector, reactors) must never skip an event because a dependency
 * is down: they retry the same step with backoff until it works or they stop.
 * `onFailure` hears of each failed attempt (to show the worker as failing).
 */
export const retryUntilStopped = <T>(step: () => Promise<T>, signal: AbortSignal, logger: Logger, what: string, onFailure?: (error: unknown) => void): Promise<T> =>
  pRetry(step, {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 100,
    maxTimeout: 5000,
    signal,
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (signal.aborted) return; // stopping: not a failure worth a warning
      logger.warn({ err: error, attemptNumber }, `${what} failed; retrying`);
      onFailure?.(error);
    },
  });
