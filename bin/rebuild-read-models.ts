import { SingleBar, Presets } from 'cli-progress';
import { ConfigError, type Config } from '../infrastructure/config.ts';
import type { Logger } from '../infrastructure/logger.ts';
import { createKnex } from '../infrastructure/postgres/database.ts';
import { allProjections } from '../projections/read-models/all-projections.ts';
import { rebuildProjection } from '../projections/rebuild.ts';
import { startTally } from './start-tally.ts';

/**
 * `tally rebuild <read model…|all>`: each named read model built afresh from
 * the log and swapped in (projections/rebuild.ts), one after another, with a
 * progress bar on stderr. Tally may keep running meanwhile, against the same
 * DATABASE_URL; the embedded PostgreSQL (no DATABASE_URL) serves one process
 * at a time, so there Tally must be stopped first.
 */
export const rebuildReadModels = async (config: Config, logger: Logger, names: readonly string[]): Promise<void> => {
  const known = allProjections.map((projection) => projection.name);
  const wanted = names.includes('all') ? known : [...names];
  const unknown = wanted.filter((name) => !known.includes(name));
  if (wanted.length === 0 || unknown.length > 0) throw new ConfigError(`name the read models to rebuild (${known.join(', ')}) or all${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`);
  // No roles: the database (embedded or not), its migrations and the event store, as Tally itself would have them.
  const tally = await startTally({ config, logger, roles: [] });
  const knex = createKnex({ url: tally.databaseUrl, max: 4, timeouts: config.databaseTimeouts });
  try {
    for (const projection of allProjections.filter((each) => wanted.includes(each.name))) {
      const bar = new SingleBar({ format: `${projection.name.padEnd(15)} [{bar}] {percentage}% | {value}/{total} events | {phase}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000 }, Presets.shades_classic);
      bar.start(1, 0, { phase: 'building' });
      await rebuildProjection({
        knex, databaseUrl: tally.databaseUrl, store: tally.store, projection,
        onProgress: ({ read, total, phase }) => {
          const all = Math.max(total, read, 1);
          bar.setTotal(all);
          bar.update(phase === 'done' ? all : read, { phase });
        },
      });
      bar.stop();
      logger.info({ readModel: projection.name }, 'read model rebuilt and swapped in');
    }
  } finally {
    await knex.destroy();
    await tally.stop();
  }
};
