import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../infrastructure/logger.ts';

export interface LogEntry {
  readonly level: number;
  readonly msg: string;
  readonly err?: { readonly message?: string; readonly code?: string };
  readonly [key: string]: unknown;
}

/** A logger whose entries a test can read back (warn and above), to show that something was reported. */
export const capturedLogger = (): { logger: Logger; entries: LogEntry[] } => {
  const entries: LogEntry[] = [];
  const sink = new Writable({
    write: (line: Buffer, _encoding, done) => {
      entries.push(JSON.parse(line.toString()) as LogEntry);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), entries };
};

export const WARN = 40;
