import { expect } from 'chai';
import { startEsdbTestServer } from '../support/esdb-test-server/esdb-test-server.ts';
import { httpClient } from '../support/http-client.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

/** The value of one sample in Prometheus text, 0 when absent (the registry is the process's: other suites' requests count too). */
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
};
const requests = (api: string, method: string, route: string, status: number) =>
  `tally_http_request_duration_seconds_count{api="${api}",method="${method}",route="${route}",status="${status}"}`;

/** DESIGN §7: both APIs answer GET /ready (can this process serve?) and GET /metrics (Prometheus), behind auth. */
describe('GET /ready and GET /metrics on both APIs', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database?.drop());

  it('reports ready, and exposes request timings by route and every subscriber\u2019s lag and state', async () => {
    const app = await runTally(database.url);
    try {
      const commandUrl = `http://127.0.0.1:${app.tally.commandPort}`;
      const queryUrl = `http://127.0.0.1:${app.tally.queryPort}`;
      for (const url of [commandUrl, queryUrl]) {
        const ready = await httpClient(url).get('/ready');
        expect(ready.status).to.equal(200);
        expect(ready.body).to.deep.equal({ status: 'ready', checks: { database: 'ok', eventStore: 'ok' } });
        expect((await httpClient(url, null).get('/ready')).status).to.equal(401);
        expect((await fetch(`${url}/metrics`)).status).to.equal(401);
      }
      const scrape = async (url: string) => {
        const reply = await fetch(`${url}/metrics`, { headers: AUTH });
        expect(reply.status).to.equal(200);
        expect(reply.headers.get('content-type')).to.match(/^text\/plain/);
        return reply.text();
      };
      const series = [requests('command', 'POST', '/campaigns', 201), requests('query', 'GET', '/campaigns/:id', 200), requests('query', 'GET', '/campaigns/:id', 404)];
      const before = await scrape(queryUrl);
      const created = await app.commands.post('/campaigns', { name: 'Measured' });
      await app.queries.get(`/campaigns/${created.body.id}?minPosition=${created.body.position}`);
      await app.queries.get('/campaigns/no-such-campaign');
      const text = await scrape(queryUrl);
      expect(series.map((each) => sample(text, each) - sample(before, each))).to.deep.equal([1, 1, 1]);
      expect(text).to.match(/process_cpu_user_seconds_total \d/);
      const running = await until('every subscriber up', () => scrape(commandUrl), { ok: (body) => /tally_subscriber_up\{subscriber="reactor:rule-engine"\} 1/.test(body) && /tally_subscriber_up\{subscriber="projection:campaigns"\} 1/.test(body) });
      expect(running).to.match(/tally_subscriber_lag_seconds\{subscriber="projection:earnings"\} \d/);
    } finally {
      await app.stop();
    }
  });

  it('reports not ready, saying why, while its event store is away', async () => {
    const server = await startEsdbTestServer();
    const app = await runTally(database.url, { roles: ['command', 'query'], env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString } });
    try {
      expect((await app.queries.get('/ready')).status).to.equal(200);
      await server.stop();
      const away = await app.queries.get('/ready');
      expect(away.status).to.equal(503);
      expect(away.body.status).to.equal('not ready');
      expect(away.body.checks.database).to.equal('ok');
      expect(away.body.checks.eventStore).to.match(/^failing: /);
    } finally {
      await app.stop();
    }
  });
});
