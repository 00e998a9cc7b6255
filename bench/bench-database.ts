import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../infrastructure/logger.ts';
import { startEmbeddedPostgres } from '../infrastructure/postgres/embedded-postgres.ts';

/** A PostgreSQL server for the run: the one DATABASE_URL names, or an embedded one in a temporary folder. */
export interface BenchServer {
  /** Where `create database` is run; any database of the server. */
  readonly adminUrl: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** `settings`: server settings for the embedded server (e.g. shared_preload_libraries); a server of your own keeps its own. */
export const startBenchServer = async (logger: Logger, settings?: Readonly<Record<string, string>>): Promise<BenchServer> => {
  const external = process.env.DATABASE_URL;
  if (external) return { adminUrl: external, embedded: false, stop: async () => undefined };
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tally-bench-'));
  try {
    const server = await startEmbeddedPostgres(dataDir, logger, { settings });
    return {
      adminUrl: server.url,
      embedded: true,
      stop: async () => {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
};

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const withAdmin = async <T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

/** A fresh database on the server, as the test suites do, dropped (with force) at the end. */
export const createBenchDatabase = async (adminUrl: string): Promise<BenchDatabase> => {
  const name = `tally_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
};

/** Runs `benchmark` on a fresh database of a bench server, then drops both. */
export const onBenchDatabase = async (logger: Logger, benchmark: (url: string, embedded: boolean) => Promise<void>): Promise<void> => {
  const server = await startBenchServer(logger);
  try {
    const database = await createBenchDatabase(server.adminUrl);
    try {
      await benchmark(database.url, server.embedded);
    } finally {
      await database.drop();
    }
  } finally {
    await server.stop();
  }
};
