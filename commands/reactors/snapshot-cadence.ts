export interface SnapshotEvery {
  /** Events folded since the last snapshot. */
  readonly events: number;
  /** Milliseconds since the last snapshot (with at least one event folded). */
  readonly ms: number;
}

/**
 * When a snapshot is worth its cost: writing one costs about as much as
 * folding many thousands of events, so not after every batch; but a long
 * catch-up, or hours of live traffic, should not be lost to a restart either.
 */
export interface SnapshotCadence {
  folded(count: number): void;
  /** Something was folded since the last snapshot. */
  behind(): boolean;
  due(): boolean;
  /** Taken (or given up on): the next one is due after another period. */
  taken(): void;
}

/** `now`: a monotonic clock; the cadence is an operational matter, not the domain's time, which tests move. */
export const snapshotCadence = ({ events, ms }: SnapshotEvery, now: () => number = () => performance.now()): SnapshotCadence => {
  let folded = 0;
  let since = now();
  return {
    folded: (count) => void (folded += count),
    behind: () => folded > 0,
    due: () => folded >= events || (folded > 0 && now() - since >= ms),
    taken: () => {
      folded = 0;
      since = now();
    },
  };
};
