/** How often and how late a failed delivery is tried again (MESSAGE_MAX_ATTEMPTS, MESSAGE_RETRY_BASE_MS). */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failure the message is abandoned. */
  readonly maxAttempts: number;
  /** The wait after the first failure; it doubles after each one. */
  readonly baseMs: number;
}

/** Exponential backoff: base × 2^(attempt−1) after the attempt-th failure (30 s, 1 min, 2 min, … with the configured defaults). */
export const retryDelayMs = (policy: RetryPolicy, attempt: number): number => policy.baseMs * 2 ** (attempt - 1);
