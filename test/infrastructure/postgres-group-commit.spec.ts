import { expect } from 'chai';
import { ConcurrencyError } from '../../infrastructure/event-store/event-store.ts';
import { createPostgresEventStore } from '../../infrastructure/event-store/postgres/postgres-event-store.ts';
import { createPool } from '../../infrastructure/postgres/database.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/** Counts the statements the store sends, by the function they call. */
const countCalls = (pool: { query: (...args: never[]) => unknown }) => {
  const calls = { alone: 0, together: 0 };
  const query = pool.query.bind(pool);
  pool.query = ((...args: never[]) => {
    const sql = args[0] as unknown;
    if (typeof sql === 'string' && /tally_append_(one|many)\(/.test(sql)) calls.alone++;
    if (typeof sql === 'string' && sql.includes('tally_append_batch(')) calls.together++;
    return query(...args);
  }) as typeof pool.query;
  return calls;
};

/** Single appends that arrive together are committed together (group-commit.ts). */
describe('PostgreSQL event store: group commit of single appends', function () {
  this.timeout(60_000);

  it('commits concurrent single appends in few statements, each with its own answer', async () => {
    const underTest = await createPostgresStoreForTest();
    try {
      const { store, pool } = underTest;
      await store.appendToStream('taken', [{ type: 'Taken', data: {} }], { expectedRevision: 'no_stream' });
      const calls = countCalls(pool as never);
      const appends = 300;
      const outcomes = await Promise.all(
        Array.from({ length: appends }, (_, n) =>
          store
            // Every tenth append names a stream that exists already: refused, alone.
            .appendToStream(n % 10 === 0 ? 'taken' : `s-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' })
            .then((result) => ({ n, result }), (error: unknown) => ({ n, error })),
        ),
      );
      for (const outcome of outcomes) {
        if (outcome.n % 10 === 0) {
          expect('error' in outcome && outcome.error).to.be.instanceOf(ConcurrencyError).and.deep.include({ streamId: 'taken', actual: 0n });
        } else {
          expect('result' in outcome && outcome.result.nextRevision).to.equal(0n);
        }
      }
      const log = [];
      for await (const event of store.readAll()) log.push(event);
      const numbered = log.filter((event) => event.type === 'Numbered');
      expect(numbered.map((event) => event.data.n).sort((a, b) => Number(a) - Number(b))).to.deep.equal(
        Array.from({ length: appends }, (_, n) => n).filter((n) => n % 10 !== 0),
      );
      // Each answer's position is its event's.
      for (const outcome of outcomes) if ('result' in outcome) expect(numbered.find((event) => event.data.n === outcome.n)?.position).to.equal(outcome.result.position);
      expect(calls.together).to.be.above(0);
      expect(calls.alone + calls.together).to.be.below(appends / 2);
    } finally {
      await underTest.stop();
    }
  });

  it('fails only the append that cannot be stored when its group is refused whole', async () => {
    const underTest = await createPostgresStoreForTest();
    try {
      const { store } = underTest;
      // PostgreSQL's jsonb refuses \u0000: the statement carrying it fails as a whole.
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          store
            .appendToStream(`s-${n}`, [{ type: 'Numbered', data: { n, text: n === 17 ? 'nul \u0000 here' : 'fine' } }], { expectedRevision: 'no_stream' })
            .then(() => 'ok', (error: unknown) => (error as { code?: string }).code ?? String(error)),
        ),
      );
      expect(outcomes.filter((outcome) => outcome !== 'ok')).to.deep.equal(['22P05']);
      expect(outcomes[17]).to.equal('22P05');
    } finally {
      await underTest.stop();
    }
  });

  it('answers every append of a group whose reply was lost with that error: none is told "exists already" for a write that went through', async () => {
    const underTest = await createPostgresStoreForTest();
    const { hostname, port } = new URL(underTest.database.url);
    const proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
    const pool = createPool({ url: proxy.url(underTest.database.url), max: 4 });
    const store = createPostgresEventStore({ connectionString: proxy.url(underTest.database.url), pool, appendsInFlight: 1 });
    try {
      // One append in flight holds the queue; the next ones go together, and that statement's reply is lost.
      const cut = proxy.cutAfterNext((statement) => statement.includes('tally_append_batch('));
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          store.appendToStream(`lost-${n}`, [{ type: 'Numbered', data: { n } }], { expectedRevision: 'no_stream' }).then(() => 'ok', (error: unknown) => error),
        ),
      );
      await cut;
      const failed = outcomes.filter((outcome) => outcome !== 'ok');
      expect(failed.length).to.be.above(1);
      for (const error of failed) expect(error).not.to.be.instanceOf(ConcurrencyError);
      // The group did commit: each of its events is in the log once.
      const numbered = [];
      for await (const event of underTest.store.readAll()) if (event.type === 'Numbered') numbered.push(event.data.n);
      expect(numbered).to.have.length(20);
      expect(new Set(numbered).size).to.equal(20);
    } finally {
      await store.close();
      await pool.end();
      await proxy.close();
      await underTest.stop();
    }
  });
});
