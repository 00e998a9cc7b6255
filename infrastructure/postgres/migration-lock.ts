import pg from 'pg';
import type { DatabaseTimeouts } from '../config.ts';
import { connectionConfig, migrationTimeouts } from './database.ts';

/** Same class as the append and leader locks (visibility.ts, leader-election.ts), another object. */
export const MIGRATION_LOCK = { classId: 0x74616c6c, objectId: 4 } as const;

/**
 * Runs `migrate` while this process holds a session advisory lock, so that
 * processes starting at once on one database (the roles of a deployment, a
 * rolling deploy) take turns: otherwise all but one meet knex's migration
 * lock, refuse to start and exit. The lock is held on a connection of its own
 * and goes with it, so a process that dies while migrating never blocks the
 * next one. Waiting for it has no time limit, as migrations have none.
 */
export const withMigrationLock = async <T>(url: string, timeouts: DatabaseTimeouts | undefined, migrate: () => Promise<T>): Promise<T> => {
  const client = new pg.Client(connectionConfig(url, migrationTimeouts(timeouts)));
  client.on('error', () => undefined); // a lost lock connection shows as a failed query or migration
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1, $2)', [MIGRATION_LOCK.classId, MIGRATION_LOCK.objectId]);
    return await migrate();
  } finally {
    await client.end().catch(() => undefined);
  }
};
