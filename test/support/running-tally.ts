import { startTally, type Role, type RunningTally } from '../../bin/start-tally.ts';
import { loadConfig } from '../../infrastructure/config.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { httpClient } from './http-client.ts';
import { silentLogger } from './silent-logger.ts';

export interface RunOptions {
  readonly roles?: readonly Role[];
  readonly env?: Record<string, string>;
  /** A clock the test moves; the campaign schedule then runs only when the test calls `tally.schedule.tick()`. */
  readonly clock?: () => Date;
  /** Silent unless given (see captured-logger.ts). */
  readonly logger?: Logger;
  /** The store this Tally uses, made from the real one (see StartOptions.wrapStore). */
  readonly wrapStore?: (store: EventStore) => EventStore;
}

/** Tally in this process, on free ports, against the given database. */
export const runTally = async (databaseUrl: string, { roles, env = {}, clock, logger = silentLogger, wrapStore }: RunOptions = {}) => {
  const config = loadConfig({ DATABASE_URL: databaseUrl, COMMAND_PORT: '0', QUERY_PORT: '0', API_USERNAME: 'admin', API_PASSWORD: 'admin', ...env });
  const tally: RunningTally = await startTally({ config, logger, roles, wrapStore, ...(clock ? { clock, scheduleCron: null } : {}) });
  return {
    tally,
    commands: httpClient(`http://127.0.0.1:${tally.commandPort}`),
    queries: httpClient(`http://127.0.0.1:${tally.queryPort}`),
    stop: () => tally.stop(),
  };
};
