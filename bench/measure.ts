/** Runs `operation` in `concurrency` loops until `seconds` have passed; returns rows per second. */
export type Operation = (worker: number) => Promise<number>;

export interface Throughput {
  readonly rows: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export const runFor = async (seconds: number, concurrency: number, operation: Operation): Promise<Throughput> => {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let rows = 0;
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < deadline) {
      // Not `rows += await …`: that reads `rows` before the await and loses the other workers' counts.
      const done = await operation(index);
      rows += done;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  const elapsed = (performance.now() - start) / 1000;
  return { rows, seconds: elapsed, perSecond: rows / elapsed };
};

export interface Scenario {
  readonly name: string;
  readonly operation: Operation;
}

/**
 * Each scenario warms up, then they take turns in slices until each has run
 * `seconds`: a slow spell of the machine (a checkpoint, another process) falls
 * on all of them, so their ratios hold even when absolute rates drift.
 */
export const runInterleaved = async (
  scenarios: readonly Scenario[],
  { concurrency, seconds, warmupSeconds, sliceSeconds }: { concurrency: number; seconds: number; warmupSeconds: number; sliceSeconds: number },
): Promise<Map<string, Throughput>> => {
  for (const { operation } of scenarios) await runFor(warmupSeconds, concurrency, operation);
  const totals = new Map(scenarios.map(({ name }) => [name, { rows: 0, seconds: 0 }]));
  const slices = Math.max(1, Math.round(seconds / sliceSeconds));
  for (let slice = 0; slice < slices; slice++) {
    for (const { name, operation } of scenarios) {
      const { rows, seconds: elapsed } = await runFor(seconds / slices, concurrency, operation);
      const total = totals.get(name)!;
      total.rows += rows;
      total.seconds += elapsed;
    }
  }
  return new Map([...totals].map(([name, { rows, seconds: elapsed }]) => [name, { rows, seconds: elapsed, perSecond: rows / elapsed }]));
};

/** Times one piece of work that yields a row count (a read to the end, a seed). */
export const timeOnce = async (work: () => Promise<number>): Promise<Throughput> => {
  const start = performance.now();
  const rows = await work();
  const elapsed = (performance.now() - start) / 1000;
  return { rows, seconds: elapsed, perSecond: rows / elapsed };
};

export interface ResultRow {
  readonly scenario: string;
  readonly concurrency: number | '—';
  readonly perSecond: number;
  /** The rate of the raw INSERT at the same concurrency, when the row is compared with one. */
  readonly rawPerSecond?: number;
  /** What the row must reach: a ratio to raw, or an absolute rate. */
  readonly target?: { readonly ratio: number } | { readonly perSecond: number };
}

const formatRate = (value: number): string => Math.round(value).toLocaleString('en-US');

const ratioOf = (row: ResultRow): number | undefined => (row.rawPerSecond ? row.perSecond / row.rawPerSecond : undefined);

const targetText = (row: ResultRow): string => {
  if (!row.target) return '—';
  return 'ratio' in row.target ? `≥ ${row.target.ratio.toFixed(2)}× raw` : `≥ ${formatRate(row.target.perSecond)}/s`;
};

export const targetMet = (row: ResultRow): boolean | undefined => {
  if (!row.target) return undefined;
  if ('ratio' in row.target) return (ratioOf(row) ?? 0) >= row.target.ratio;
  return row.perSecond >= row.target.perSecond;
};

const cells = (row: ResultRow): string[] => {
  const ratio = ratioOf(row);
  const met = targetMet(row);
  return [
    row.scenario,
    String(row.concurrency),
    formatRate(row.perSecond),
    ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
    targetText(row),
    met === undefined ? '—' : met ? 'yes' : 'no',
  ];
};

const HEADER = ['scenario', 'concurrency', 'rows/s', 'vs raw', 'target', 'met'];

/** A Markdown table, so that it can be pasted into docs/benchmarks.md as it is. */
export const formatTable = (rows: readonly ResultRow[]): string => {
  const lines = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const format = (line: string[]): string => `| ${line.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [format(HEADER), rule, ...lines.slice(1).map(format)].join('\n');
};
