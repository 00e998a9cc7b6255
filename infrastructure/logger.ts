import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger factory: JSON lines on stdout, children per role. */
export const createLogger = (level: string): Logger => pino({ level, base: { service: 'tally' } });
