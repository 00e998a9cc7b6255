export interface UntilOptions<T> {
  /** Whether a value is the one waited for: truthy by default. */
  ok?: (value: T) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
  /** Said after `what` in the timeout error, given the last value (`JSON.stringify`, say). */
  detail?: (last: T) => string | Promise<string>;
}

/**
 * Polls `probe` until `ok` holds for its value, and returns that value.
 * Tests wait this way for work that asynchronous workers do in their own time;
 * the timeout only bounds a wait that would otherwise hang, and is never an
 * assertion on speed.
 */
export const until = async <T>(
  what: string,
  probe: () => T | Promise<T>,
  { ok = (value: T) => Boolean(value), timeoutMs = 20_000, intervalMs = 25, detail }: UntilOptions<T> = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${detail ? `: ${await detail(value)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};
