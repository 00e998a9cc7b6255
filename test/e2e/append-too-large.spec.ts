import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const MAX_APPEND_SIZE = 64 * 1024;

/**
 * What EventStoreDB refuses to store for its size (its MaxAppendSize, here
 * 64 KiB on the test double) is a 413 problem, and nothing is written: for
 * POST /events, and for that item alone in POST /events/batch. A 100 KB
 * document passes the HTTP body limit (1 MiB) but not the store's.
 */
for (const appendMode of ['batch', 'classic'] as const) {
  describe(`a tracked event too large for EventStoreDB, over HTTP (${appendMode} append)`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let server: EsdbTestServer;
    let app: Awaited<ReturnType<typeof runTally>>;

    before(async () => {
      database = await createTestDatabase();
      server = await startEsdbTestServer({ appendMode, maxAppendSizeBytes: MAX_APPEND_SIZE });
      app = await runTally(database.url, { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString } });
    });
    after(async () => {
      await app?.stop();
      await server?.stop();
      await database?.drop();
    });

    const purchase = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'purchase', merchantId: 'M-1', customerId: 'C-1', amount: 10, ...extra });
    const large = (id: string) => purchase(id, { note: 'x'.repeat(100_000) });
    const logSize = async () => {
      let count = 0;
      for await (const _event of app.tally.store.readAll()) count++;
      return count;
    };
    const streamOf = async (id: string) => {
      const events: unknown[] = [];
      for await (const event of app.tally.store.readStream(`tracked-event-${id}`)) events.push(event);
      return events;
    };
    const expectTooLarge = (problem: Record<string, unknown>) => {
      expect(problem).to.include({ type: 'about:blank', status: 413, title: 'Content Too Large' });
      expect(problem.detail).to.be.a('string').and.include(`${MAX_APPEND_SIZE} bytes`);
    };

    it('POST /events: 413 application/problem+json naming the limit, and nothing appended', async () => {
      const id = `large-${randomUUID()}`;
      const before = await logSize();
      const reply = await app.commands.post('/events', large(id));
      expect(reply.status).to.equal(413);
      expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expectTooLarge(reply.body);
      expect(await streamOf(id)).to.deep.equal([]);
      expect(await logSize()).to.equal(before);
      expect((await app.queries.get(`/events/${id}`)).status).to.equal(404);
      // The same id with a document that fits is registered: nothing of the refused one stands in its way.
      expect((await app.commands.post('/events', purchase(id))).status).to.equal(202);
    });

    it('POST /events/batch: a 413 problem for that item only; the others are registered', async () => {
      const [first, tooLarge, last] = [randomUUID(), randomUUID(), randomUUID()];
      const reply = await app.commands.post('/events/batch', { events: [purchase(first), large(tooLarge), purchase(last)] });
      expect(reply.status).to.equal(202);
      const results = reply.body.results as { index: number; status: number; problem?: Record<string, unknown> }[];
      expect(results.map((result) => [result.index, result.status])).to.deep.equal([[0, 202], [1, 413], [2, 202]]);
      expectTooLarge(results[1]!.problem!);
      expect(await streamOf(tooLarge)).to.deep.equal([]);
      expect((await app.queries.get(`/events/${tooLarge}`)).status).to.equal(404);
      for (const id of [first, last]) {
        expect(await streamOf(id)).to.have.length.greaterThan(0);
        expect((await app.queries.get(`/events/${id}?wait=5`)).body).to.include({ id, status: 'skipped' });
      }
    });
  });
}
