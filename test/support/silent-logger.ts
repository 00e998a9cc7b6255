import { pino } from 'pino';
import type { Logger } from '../../infrastructure/logger.ts';

/** Quiet unless TEST_LOG_LEVEL asks otherwise (e.g. TEST_LOG_LEVEL=debug npm test). */
export const silentLogger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
