import net from 'node:net';
import { expect } from 'chai';
import pg from 'pg';
import { DomainError } from '../../domain/domain-error.ts';
import { AppendTooLargeError, ConcurrencyError } from '../../infrastructure/event-store/event-store.ts';
import { toProblem } from '../../infrastructure/http/problem.ts';

const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe('the HTTP error mapper', () => {
  it('maps domain refusals to 400, 404 and 409, naming the field', () => {
    expect(toProblem(new DomainError('invalid', 'bad', '/x'))).to.include({ status: 400 });
    expect(toProblem(new DomainError('invalid', 'bad', '/x'))?.errors).to.deep.equal([{ pointer: '/x', message: 'bad' }]);
    expect(toProblem(new DomainError('not_found', 'gone'))).to.include({ status: 404 });
    expect(toProblem(new DomainError('conflict', 'no'))).to.include({ status: 409 });
    expect(toProblem(new ConcurrencyError('s', 1n, 2n))).to.include({ status: 409 });
  });

  it('maps an append too large for the event store to 413, naming the limit', () => {
    const problem = toProblem(new AppendTooLargeError('tracked-event-1', 65_536));
    expect(problem).to.include({ status: 413, title: 'Content Too Large' });
    expect(problem?.detail).to.include('65536 bytes').and.include('nothing was written');
  });

  it('maps a database that cannot be reached to 503, and a bug to nothing (a 500)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'x', database: 'x' });
    const error = await client.connect().catch((caught: unknown) => caught);
    expect(toProblem(error)).to.include({ status: 503 });
    expect(toProblem(new TypeError('undefined is not a function'))).to.equal(undefined);
  });

  it('maps an EventStoreDB append that found no server (a raw gRPC UNAVAILABLE) to 503', () => {
    const unavailable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established' });
    expect(toProblem(unavailable)).to.include({ status: 503 });
    expect(toProblem(Object.assign(new Error('14'), { code: 14 }))).to.equal(undefined);
  });
});
