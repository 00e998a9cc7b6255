/**
 * An open-loop driver: it offers `rate` units a second for `seconds`, whatever
 * the server answers, with at most `inFlight` requests open at once (a client
 * that waits then sends late, which shows as an accepted rate below the offer).
 */
export interface OfferedLoad {
  readonly offered: number;
  readonly accepted: number;
  readonly failed: number;
  readonly seconds: number;
}

export const offerLoad = async (
  { rate, seconds, inFlight }: { rate: number; seconds: number; inFlight: number },
  send: (n: number) => Promise<boolean>,
  onTick?: (elapsedSeconds: number) => void,
): Promise<OfferedLoad> => {
  const start = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  let open = 0;
  let accepted = 0;
  let failed = 0;
  const pending = new Set<Promise<void>>();
  let lastTick = 0;
  while (sent < total) {
    const elapsed = (performance.now() - start) / 1000;
    if (onTick && elapsed - lastTick >= 0.25) {
      lastTick = elapsed;
      onTick(elapsed);
    }
    const due = Math.min(total, Math.floor(rate * elapsed) + 1);
    while (sent < due && open < inFlight) {
      const n = sent++;
      open++;
      const done = send(n)
        .then((ok) => void (ok ? accepted++ : failed++), () => void failed++)
        .finally(() => {
          open--;
          pending.delete(done);
        });
      pending.add(done);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  return { offered: total, accepted, failed, seconds: (performance.now() - start) / 1000 };
};

export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
