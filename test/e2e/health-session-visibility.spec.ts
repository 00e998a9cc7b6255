import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { capturedLogger, WARN } from '../support/captured-logger.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const polling = { intervalMs: 100, detail: JSON.stringify };

/**
 * A role that cannot see other roles' sessions makes readers wait for every
 * transaction in the cluster (session-visibility.ts): it fails nothing, so it
 * must be said, at start and on /health.
 */
describe('health: a database role that cannot see the sessions of other roles', function () {
  this.timeout(60_000);
  const role = `tally_reader_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let database: TestDatabase;
  let url: string;

  beforeEach(async () => {
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    database = await createTestDatabase();
    const password = randomBytes(12).toString('hex');
    // Neither superuser nor pg_read_all_stats; owning the database lets it run Tally's migrations.
    await admin.query(`create role ${role} login password '${password}'`);
    await admin.query(`alter database ${new URL(database.url).pathname.slice(1)} owner to ${role}`);
    const asRole = new URL(database.url);
    asRole.username = role;
    asRole.password = password;
    url = asRole.toString();
  });

  afterEach(async () => {
    await database.drop();
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('warns once at start and on /health without failing it, and no more once pg_read_all_stats is granted', async () => {
    const first = capturedLogger();
    const app = await runTally(url, { logger: first.logger });
    try {
      const said = first.entries.filter((entry) => entry.level === WARN && entry.msg.includes('pg_read_all_stats'));
      expect(said.map((entry) => entry.msg)).to.deep.equal([
        `role ${role} cannot see the sessions of other roles in pg_stat_activity: while a process appends under another role, ` +
          `subscribers here wait for every transaction in the cluster. Fix: GRANT pg_read_all_stats TO ${role}`,
      ]);
      const health = await until('every subscriber runs', () => app.queries.get('/health'), { ...polling, ok: (reply) => reply.status === 200 });
      expect(health.body.status).to.equal('ok');
      expect(health.body.warnings.visibility).to.equal(said[0]!.msg);
      expect(health.body.checks).to.deep.equal({ database: 'ok', eventStore: 'ok', subscribers: 'ok' });

      // Asked on every check: the grant shows at once, without a restart.
      await admin.query(`grant pg_read_all_stats to ${role}`);
      const fixed = await app.commands.get('/health');
      expect(fixed.status).to.equal(200);
      expect(fixed.body.warnings).to.deep.equal({});
    } finally {
      await app.stop();
    }

    const second = capturedLogger();
    const again = await runTally(url, { logger: second.logger, roles: ['query'] });
    try {
      expect(second.entries.filter((entry) => entry.msg.includes('pg_read_all_stats'))).to.deep.equal([]);
    } finally {
      await again.stop();
    }
  });
});
