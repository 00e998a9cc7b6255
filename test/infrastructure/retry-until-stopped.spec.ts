import { expect } from 'chai';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { silentLogger } from '../support/silent-logger.ts';

describe('retryUntilStopped', () => {
  it('retries whatever is thrown, a TypeError and a non-error too, telling each failure', async () => {
    const thrown: unknown[] = [new TypeError("Cannot read properties of undefined (reading 'x')"), 'not an error', new Error('down')];
    const told: unknown[] = [];
    let attempts = 0;
    const result = await retryUntilStopped(
      async () => {
        attempts++;
        if (attempts <= thrown.length) throw thrown[attempts - 1];
        return 'done';
      },
      new AbortController().signal,
      silentLogger,
      'a step',
      (error) => told.push(error),
    );
    expect(result).to.equal('done');
    expect(told).to.have.ordered.members(thrown);
  });

  it('rejects with the reason of the abort, and makes no attempt after it', async () => {
    const stopping = new AbortController();
    let attempts = 0;
    const retrying = retryUntilStopped(
      async () => {
        attempts++;
        throw new TypeError('never works');
      },
      stopping.signal,
      silentLogger,
      'a step',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reason = new Error('stopping');
    stopping.abort(reason);
    const made = attempts;
    expect(await retrying.catch((error: unknown) => error)).to.equal(reason);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(attempts).to.equal(made);
  });
});
