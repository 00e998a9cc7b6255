import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../infrastructure/postgres/embedded-postgres.ts';
import { silentLogger } from './silent-logger.ts';

/**
 * Tests talk to a real PostgreSQL: the one DATABASE_URL names (CI), or else an
 * embedded one started here for the whole run, in a temporary folder.
 */
let embedded: RunningPostgres | undefined;
let dataDir: string | undefined;

export const mochaGlobalSetup = async (): Promise<void> => {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
    console.log(`tests use PostgreSQL at DATABASE_URL`);
    return;
  }
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tally-test-'));
  embedded = await startEmbeddedPostgres(dataDir, silentLogger);
  process.env.TEST_DATABASE_URL = embedded.url;
  console.log('DATABASE_URL is not set: tests use an embedded PostgreSQL');
};

export const mochaGlobalTeardown = async (): Promise<void> => {
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
};
