#!/usr/bin/env -S npx tsx
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../infrastructure/config.ts';
import { createLogger } from '../infrastructure/logger.ts';
import { rebuildReadModels } from './rebuild-read-models.ts';
import { ROLES, startTally, type Role } from './start-tally.ts';

const USAGE = `usage: tally [start] [--roles command,query,projector,reactor]
       tally rebuild <read model…|all>

  start    run the given roles (default: all) in this process
  rebuild  build read models afresh from the log and swap them in (campaigns, tracked-events, earnings, messages)`;

const main = async (): Promise<void> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { roles: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void console.log(USAGE);
  const command = positionals[0] ?? 'start';
  if (command === 'rebuild') {
    const config = loadConfig();
    await rebuildReadModels(config, createLogger(config.logLevel), positionals.slice(1));
    return;
  }
  if (command !== 'start') throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  const roles = (values.roles?.split(',').map((role) => role.trim()) ?? [...ROLES]) as Role[];
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) throw new ConfigError(`unknown role(s): ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);

  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  let stopping = false;
  const shutdown = (reason: string, code: number): void => {
    if (stopping) {
      // A second signal means "now": the embedded PostgreSQL still gets its SIGINT from the exit hook.
      logger.warn({ reason }, 'stopping at once');
      process.exit(code || 1);
    }
    stopping = true;
    logger.info({ reason }, 'shutting down');
    // A step that hangs (a dead connection) must not keep the process alive for ever.
    setTimeout(() => {
      logger.error('shutdown took longer than 20 s; exiting');
      process.exit(1);
    }, 20_000).unref();
    void tally.then((running) => running.stop()).then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  // Signals are taken before anything starts, so that even an interrupted start stops what it began.
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    shutdown('uncaught exception', 1);
  });
  const tally = startTally({ config, logger, roles, onFatal: () => shutdown('a worker failed', 1) });
  await tally;
};

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `tally: ${error.message}` : error);
  process.exit(1);
});
