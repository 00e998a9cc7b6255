import net from 'node:net';
import { expect } from 'chai';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Writes bytes on a fresh connection and reads until the server closes it (a test that never ends: it did not). */
const rawRequest = (port: number, ...chunks: string[]): Promise<RawReply> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    for (const chunk of chunks) socket.write(chunk);
  });

/** Requests Node's HTTP parser refuses before express sees them: answered with problem+json, then the connection closed. */
describe('requests HTTP cannot parse', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof runTally>>;
  let ports: number[];

  before(async () => {
    database = await createTestDatabase();
    app = await runTally(database.url, { roles: ['command', 'query'] });
    ports = [app.tally.commandPort!, app.tally.queryPort!];
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  const expectProblem = (reply: RawReply, status: number) => {
    expect(reply.status).to.equal(status);
    expect(reply.headers['content-type']).to.equal('application/problem+json');
    expect(reply.headers.connection).to.equal('close');
    expect(Number(reply.headers['content-length'])).to.equal(Buffer.byteLength(reply.body));
    expect(JSON.parse(reply.body)).to.include({ type: 'about:blank', status });
  };

  it('answers an unknown method with 501', async () => {
    for (const port of ports) expectProblem(await rawRequest(port, 'BREW /events HTTP/1.1\r\nHost: x\r\n\r\n'), 501);
  });

  it('answers headers too large with 431', async () => {
    for (const port of ports) expectProblem(await rawRequest(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`), 431);
  });

  it('answers a malformed request line or header with 400', async () => {
    for (const port of ports) {
      expectProblem(await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'), 400);
      expectProblem(await rawRequest(port, 'GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
      expectProblem(await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 400);
    }
  });

  it('answers the requests before a bad one first, in order, on a kept-alive connection', async () => {
    // The first one reads the database: its answer is still on the way when the bad one is parsed.
    const first = `GET /campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from('admin:admin').toString('base64')}\r\n\r\n`;
    const reply = await rawRequest(app.tally.queryPort!, first, 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(reply.status).to.equal(200);
    expect(reply.body).to.match(/^\{"campaigns":\[\].*\}HTTP\/1\.1 501 Not Implemented\r\n/s);
  });
});
